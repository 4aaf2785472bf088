/** Direct D1 fixtures for tests that need catalogue or cart rows without going through other features' routes. */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { StockSnapshot } from "../src/inventory/inventory.do";
import { productStock } from "../src/inventory/inventory.client";
import { unique } from "./helpers";

export async function insertCategory(name = unique("Category")): Promise<number> {
  const row = await env.DB.prepare("INSERT INTO categories (name, slug) VALUES (?, ?) RETURNING id")
    .bind(name, name.toLowerCase().replace(/[^a-z0-9]+/g, "-"))
    .first<{ id: number }>();
  return row!.id;
}

/** A product with `stock` units; its inventory object seeds itself from this on first use. */
export async function insertProduct(opts: { pricePaise?: number; stock?: number; name?: string; categoryId?: number; isActive?: boolean } = {}) {
  const name = opts.name ?? unique("Product ");
  const categoryId = opts.categoryId ?? (await insertCategory());
  const row = await env.DB.prepare(
    "INSERT INTO products (category_id, name, slug, description, price_paise, stock, is_active) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
  )
    .bind(categoryId, name, unique("p-"), `${name} description`, opts.pricePaise ?? 10000, opts.stock ?? 10, opts.isActive === false ? 0 : 1)
    .first<{ id: number }>();
  return row!.id;
}

/** Puts lines into a user's D1 cart (product id -> quantity), creating the cart if needed. */
export async function fillCart(userId: number, lines: Array<[productId: number, quantity: number]>) {
  await env.DB.prepare("INSERT INTO carts (user_id) VALUES (?) ON CONFLICT(user_id) DO NOTHING").bind(userId).run();
  for (const [productId, quantity] of lines) {
    await env.DB.prepare(
      `INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ((SELECT id FROM carts WHERE user_id = ?), ?, ?)
       ON CONFLICT(cart_id, product_id) DO UPDATE SET quantity = excluded.quantity`,
    )
      .bind(userId, productId, quantity)
      .run();
  }
}

export async function cartLineCount(userId: number): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM cart_items ci JOIN carts c ON c.id = ci.cart_id WHERE c.user_id = ?")
    .bind(userId)
    .first<{ n: number }>();
  return row!.n;
}

/** A product's exact counts, summed over its stock shards. */
export const stockOf = (productId: number): Promise<StockSnapshot> => productStock(env, productId).getStock();

/** Units of a product in orders that are not cancelled, according to D1. */
export async function soldInD1(productId: number): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT coalesce(sum(oi.quantity), 0) AS n FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.product_id = ? AND o.status != 'cancelled'",
  )
    .bind(productId)
    .first<{ n: number }>();
  return row!.n;
}

/**
 * The stock invariant of design.md for one product, once no checkout is in flight:
 * available + reserved + sold == initial + adjustments, available >= 0, and the object's sold units are
 * exactly the units of non-cancelled orders in D1.
 */
export async function expectInvariant(productId: number) {
  const s = await stockOf(productId);
  expect(s.available).toBeGreaterThanOrEqual(0);
  expect(s.available + s.reserved + s.sold).toBe(s.total);
  expect(s.reserved).toBe(0);
  expect(s.sold).toBe(await soldInD1(productId));
  return s;
}

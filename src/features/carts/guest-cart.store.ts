/**
 * Anonymous carts in KV, keyed by an opaque id of 128 random bits that the client holds in the `cart_id` cookie
 * (browsers) or the `X-Cart-Id` header (API clients). The server never adopts an id it did not mint: an id that
 * is malformed or has no KV entry means a new, empty cart, and the next write mints a fresh id. So a client
 * cannot choose its cart key, and a planted id cannot later point into someone else's cart.
 * Nothing is written until the first change; every write refreshes the 30-day TTL. KV is last-write-wins
 * (and allows about one write per second per key), which is fine for one shopper's cart.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../../env";
import { randomHex } from "../../lib/crypto";
import { errorMessage } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { loadProductRows } from "../catalog/products.view";
import type { CartLineView, CartStore, CartView } from "./cart.store";

export const CART_COOKIE = "cart_id";
export const CART_HEADER = "X-Cart-Id";
const CART_ID = /^[0-9a-f]{32}$/;
const TTL_SECONDS = 30 * 24 * 60 * 60;
/** Bounds the KV value and the work of a merge for a cart nobody has to authenticate to fill. */
export const MAX_GUEST_LINES = 100;

const GuestCartSchema = z.object({
  items: z.array(
    z.object({ id: z.number().int(), product_id: z.number().int(), quantity: z.number().int(), added_at: z.string() }),
  ),
  next_item_id: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type GuestCart = z.infer<typeof GuestCartSchema>;

export interface StoredGuestCart {
  id: string;
  cart: GuestCart;
}

/** The caller's saved anonymous cart: the first well-formed id (header, then cookie) that has a KV entry. */
export async function findGuestCart(c: Context<AppEnv>): Promise<StoredGuestCart | null> {
  const candidates = new Set([c.req.header(CART_HEADER), getCookie(c, CART_COOKIE)]);
  for (const id of candidates) {
    if (!id || !CART_ID.test(id)) continue;
    const parsed = GuestCartSchema.safeParse(await c.env.CARTS.get(id, "json"));
    if (parsed.success) return { id, cart: parsed.data };
  }
  return null;
}

/** Forgets an anonymous cart once it has been merged into a user's cart. */
export async function deleteGuestCart(c: Context<AppEnv>, id: string): Promise<void> {
  await c.env.CARTS.delete(id);
  deleteCookie(c, CART_COOKIE, { path: "/", secure: true });
}

export async function guestCartStore(c: Context<AppEnv>): Promise<CartStore> {
  const found = await findGuestCart(c);
  let id = found?.id ?? null;
  const now = nowIso();
  const cart: GuestCart = found?.cart ?? { items: [], next_item_id: 1, created_at: now, updated_at: now };
  if (id) c.header(CART_HEADER, id);

  const save = async () => {
    id ??= randomHex(16);
    cart.updated_at = nowIso();
    await c.env.CARTS.put(id, JSON.stringify(cart), { expirationTtl: TTL_SECONDS });
    setCookie(c, CART_COOKIE, id, { httpOnly: true, secure: true, sameSite: "Lax", path: "/", maxAge: TTL_SECONDS });
    c.header(CART_HEADER, id);
  };
  const line = (itemId: number) => cart.items.find((item) => item.id === itemId);

  return {
    async view(): Promise<CartView> {
      const products = await loadProductRows(c.get("db"), cart.items.map((item) => item.product_id));
      // A product deleted from the catalogue drops out of the cart.
      const lines = cart.items.flatMap((item): CartLineView[] => {
        const product = products.get(item.product_id);
        return product ? [{ id: item.id, quantity: item.quantity, addedAt: item.added_at, product }] : [];
      });
      return { id, lines, createdAt: cart.created_at, updatedAt: cart.updated_at };
    },
    async quantityOf(productId) {
      return cart.items.find((item) => item.product_id === productId)?.quantity ?? 0;
    },
    async add(productId, qty, cap) {
      const existing = cart.items.find((item) => item.product_id === productId);
      if (existing) {
        if (existing.quantity + qty > cap) return false;
        existing.quantity += qty;
      } else {
        if (qty > cap) return false;
        if (cart.items.length >= MAX_GUEST_LINES) throw errorMessage(400, `A cart can hold at most ${MAX_GUEST_LINES} different products`);
        cart.items.push({ id: cart.next_item_id++, product_id: productId, quantity: qty, added_at: nowIso() });
      }
      await save();
      return true;
    },
    async productOfItem(itemId) {
      return line(itemId)?.product_id ?? null;
    },
    async setQuantity(itemId, qty) {
      const item = line(itemId);
      if (!item) return false;
      item.quantity = qty;
      await save();
      return true;
    },
    async remove(itemId) {
      const index = cart.items.findIndex((item) => item.id === itemId);
      if (index < 0) return false;
      cart.items.splice(index, 1);
      await save();
      return true;
    },
    async clear() {
      // Nothing to clear in a cart that was never saved, and no reason to start one.
      if (!id) return;
      cart.items = [];
      await save();
    },
  };
}

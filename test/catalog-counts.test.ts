import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { api, createAdmin, createCategory, createProduct, registerUser } from "./helpers";
import { fillCart } from "./fixtures";

/** Every maintained scope recomputed from scratch over the products table. */
async function recomputed(): Promise<Record<string, number>> {
  const scopes: [string, string, boolean][] = [
    ["all", "1", false],
    ["all_in_stock", "stock > 0", false],
    ["category_all:", "1", true],
    ["category_all_in_stock:", "stock > 0", true],
    ["active", "is_active", false],
    ["active_in_stock", "is_active AND stock > 0", false],
    ["category:", "is_active", true],
    ["category_in_stock:", "is_active AND stock > 0", true],
  ];
  const out: Record<string, number> = {};
  for (const [scope, where, byCategory] of scopes) {
    const sql = byCategory
      ? `SELECT '${scope}' || category_id AS scope, count(*) AS n FROM products WHERE ${where} GROUP BY category_id`
      : `SELECT '${scope}' AS scope, count(*) AS n FROM products WHERE ${where}`;
    for (const row of (await env.DB.prepare(sql).all<{ scope: string; n: number }>()).results) out[row.scope] = row.n;
  }
  return out;
}

async function maintained(): Promise<Record<string, number>> {
  const rows = (await env.DB.prepare("SELECT scope, n FROM catalog_counts WHERE n != 0").all<{ scope: string; n: number }>()).results;
  return Object.fromEntries(rows.map((r) => [r.scope, r.n]));
}

describe("maintained catalogue counts", () => {
  it("stay exact through creates, deactivation, category moves, sales to zero and deletes", async () => {
    const admin = await createAdmin();
    const shopper = await registerUser();
    const phones = await createCategory(admin.access);
    const lamps = await createCategory(admin.access);
    const a = await createProduct(admin.access, { category: phones.id, stock: 1 });
    const b = await createProduct(admin.access, { category: phones.id, stock: 0 });
    const c = await createProduct(admin.access, { category: lamps.id, stock: 5 });
    await createProduct(admin.access, { category: lamps.id, stock: 3, is_active: false });
    await api("PATCH", `/api/products/${b.id}/`, { token: admin.access, body: { category: lamps.id, stock: 2 } });
    await api("PATCH", `/api/products/${c.id}/`, { token: admin.access, body: { is_active: false } });
    await fillCart(shopper.id, [[a.id, 1]]);
    expect((await api("POST", "/api/orders/create_order/", { token: shopper.access, body: { shipping_address: "1 Count St" } })).status).toBe(201);
    await api("DELETE", `/api/products/${c.id}/`, { token: admin.access });
    // the checkout's projection write is written behind (within PROJECTION_FLUSH_MS, 1 s): wait until the sale shows in D1
    await vi.waitFor(
      async () => {
        const row = await env.DB.prepare("SELECT stock FROM products WHERE id = ?").bind(a.id).first<{ stock: number }>();
        expect(row?.stock).toBe(0);
      },
      { timeout: 5_000, interval: 100 },
    );

    const truth = await recomputed();
    expect(await maintained()).toEqual(Object.fromEntries(Object.entries(truth).filter(([, n]) => n !== 0)));

    // and the API's counts are those numbers
    expect((await api("GET", "/api/products/")).body.count).toBe(truth.active ?? 0);
    expect((await api("GET", "/api/products/?in_stock=true")).body.count).toBe(truth.active_in_stock ?? 0);
    expect((await api("GET", `/api/products/?category=${lamps.slug}`)).body.count).toBe(truth[`category:${lamps.id}`] ?? 0);
    expect((await api("GET", "/api/products/", { token: admin.access })).body.count).toBe(truth.all);
    expect((await api("GET", "/api/products/?category=no-such-category")).body.count).toBe(0);
  });
});

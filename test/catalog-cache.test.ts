import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { inventoryOf } from "../src/inventory/inventory.client";
import { api, createAdmin, createProduct } from "./helpers";
import { insertProduct } from "./fixtures";

describe("edge cache of public catalogue listings", () => {
  it("serves a repeated anonymous listing from the cache, and a catalogue write retires it at once", async () => {
    const admin = await createAdmin();
    await createProduct(admin.access, { name: "Cached Lamp" });
    const first = await api("GET", "/api/products/?search=Lamp");
    expect(first.body.count).toBe(1);
    // a row written behind the API's back is not seen while the cached page lives
    await insertProduct({ name: "Sneaky Lamp" });
    expect((await api("GET", "/api/products/?search=Lamp")).body.count).toBe(1);
    // an admin never reads from the cache
    expect((await api("GET", "/api/products/?search=Lamp", { token: admin.access })).body.count).toBe(2);
    // any catalogue write through the API retires the cached listings
    await createProduct(admin.access, { name: "Fresh Lamp" });
    expect((await api("GET", "/api/products/?search=Lamp")).body.count).toBe(3);
  });

  it("serves product detail from D1 alone (the stock projection), cached like the listings", async () => {
    const admin = await createAdmin();
    const product = await createProduct(admin.access, { stock: 7 });
    expect((await api("GET", `/api/products/${product.id}/`)).body.stock).toBe(7);
    await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock: 3 } });
    const detail = await api("GET", `/api/products/${product.id}/`);
    expect(detail.body.stock).toBe(3);
    expect(detail.headers.get("Cache-Control")).toBe("public, max-age=30");
    // The projection is what the detail shows: the inventory object is not asked.
    await env.DB.prepare("UPDATE products SET stock = 41 WHERE id = ?").bind(product.id).run();
    expect((await api("GET", `/api/products/${product.id}/`, { token: admin.access })).body.stock).toBe(41);
    const object = await inventoryOf(env, product.id).getStock(product.id);
    expect(object.available).toBe(3);
  });
});

describe("read replicas (D1 Sessions API)", () => {
  it("answers anonymous catalogue reads with a bookmark, accepts it back, and ignores a malformed one", async () => {
    const first = await api("GET", "/api/categories/all/");
    const bookmark = first.headers.get("X-D1-Bookmark");
    expect(bookmark).toMatch(/^[0-9a-f-]+$/i);
    const again = await api("GET", "/api/products/?page_size=2", { headers: { "X-D1-Bookmark": bookmark! } });
    expect(again.status).toBe(200);
    const garbage = await api("GET", "/api/products/?page_size=3", { headers: { "X-D1-Bookmark": "'; drop table products; --" } });
    expect(garbage.status).toBe(200);
  });
});

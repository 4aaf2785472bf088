import { describe, expect, it } from "vitest";
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

  it("keeps product detail live: stock is the inventory object's", async () => {
    const admin = await createAdmin();
    const product = await createProduct(admin.access, { stock: 7 });
    expect((await api("GET", `/api/products/${product.id}/`)).body.stock).toBe(7);
    await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock: 3 } });
    const detail = await api("GET", `/api/products/${product.id}/`);
    expect(detail.body.stock).toBe(3);
    expect(detail.headers.get("Cache-Control")).toBe("public, max-age=30");
  });
});

/**
 * Request bodies as DRF reads them: unknown keys and read-only fields are ignored (never written, never an error),
 * so a client may PUT back the object it got; privileged fields stay impossible to set; one 400 names every failing
 * field, uniqueness and format errors together.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createAdmin, createCategory, createProduct, registerUser, schemaProperties, unique, type TestUser } from "./helpers";
import { fillCart, insertProduct } from "./fixtures";

let admin: TestUser;
let user: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
  user = await registerUser();
});

describe("unknown keys are never an error", () => {
  it("on any route with a JSON body, from the OpenAPI document", async () => {
    const doc = (await api("GET", "/openapi.json")).body;
    const routes = Object.entries<Record<string, any>>(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody)
        .map(([method]) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, "1")]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const [method, path] of routes) {
      if (path === "/api/payments/webhook/") continue; // a raw, signed body: refused before it is read as fields
      const res = await api(method, path, { token: admin.access, body: { not_a_field: 1, is_staff: true } });
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      // neither as a field of its own nor inside another message (zod's "Unrecognized key")
      expect(JSON.stringify(res.body ?? {}), `${method} ${path}`).not.toMatch(/not_a_field|is_staff/);
    }
  });
});

describe("a client may PUT back the object it got", () => {
  it("profile: id and date_joined are ignored, the edited field is saved", async () => {
    const me = await registerUser();
    const got = (await api("GET", "/api/auth/profile/", { token: me.access })).body;
    const res = await api("PUT", "/api/auth/profile/", {
      token: me.access,
      body: { ...got, first_name: "Edited", id: got.id + 1000, date_joined: "2000-01-01T00:00:00.000Z", is_staff: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...got, first_name: "Edited" });
    expect(await env.DB.prepare("SELECT is_staff FROM users WHERE id = ?").bind(got.id).first("is_staff")).toBe(0);
  });

  it("product: id, slug, the nested category and timestamps are ignored or read as the category id", async () => {
    const product = await createProduct(admin.access);
    const got = (await api("GET", `/api/products/${product.id}/`, { token: admin.access })).body;
    const otherCategory = await createCategory(admin.access);
    const res = await api("PUT", `/api/products/${product.id}/`, {
      token: admin.access,
      body: { ...got, price: "250.50", id: 999999, slug: "hijacked", created_at: "2000-01-01T00:00:00.000Z", category_name: "x" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: product.id, slug: got.slug, price: "250.50", created_at: got.created_at, category: { id: got.category.id } });
    // a nested category with another id moves the product: the id is the one meant
    const moved = await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { category: { ...got.category, id: otherCategory.id } } });
    expect(moved.body.category.id).toBe(otherCategory.id);
  });

  it("category: id, slug, children and timestamps are ignored", async () => {
    const parent = await createCategory(admin.access);
    await createCategory(admin.access, { parent: parent.id });
    const got = (await api("GET", `/api/categories/${parent.slug}/`)).body;
    expect(got.children).toHaveLength(1);
    const res = await api("PUT", `/api/categories/${parent.slug}/`, {
      token: admin.access,
      body: { ...got, description: "Edited", slug: "hijacked", id: 999999, children: [] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: got.id, slug: got.slug, description: "Edited", children: got.children });
  });

  it("address: id, created_at and user are ignored", async () => {
    const body = { street_address: "1 Lane", city: "Pune", state: "MH", postal_code: "411001" };
    const got = (await api("POST", "/api/auth/addresses/", { token: user.access, body: { ...body, id: 5, user: admin.id } })).body;
    expect(got.id).not.toBe(5);
    expect(await env.DB.prepare("SELECT user_id FROM addresses WHERE id = ?").bind(got.id).first("user_id")).toBe(user.id);
    const res = await api("PATCH", `/api/auth/addresses/${got.id}/`, { token: user.access, body: { ...got, city: "Mumbai", id: got.id + 1 } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...got, city: "Mumbai" });
  });
});

describe("privileged fields stay impossible to set", () => {
  it("create_order ignores user, status, payment_status and totals", async () => {
    const buyer = await registerUser();
    const product = await insertProduct({ pricePaise: 50000, stock: 5 });
    await fillCart(buyer.id, [[product, 2]]);
    const res = await api("POST", "/api/orders/create_order/", {
      token: buyer.access,
      body: { shipping_address: "1 Lane", user: admin.id, status: "paid", payment_status: "success", total_amount: "1.00", order_number: "ORD-000000000000" },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "pending", payment_status: "pending", total_amount: "1000.00", user_email: buyer.email });
    expect(res.body.order_number).not.toBe("ORD-000000000000");
  });

  it("cart add ignores unknown keys and prices", async () => {
    const product = await insertProduct({ pricePaise: 10000 });
    const res = await api("POST", "/api/cart/add/", { token: user.access, body: { product_id: product, quantity: 2, colour: "red", subtotal: "0.01" } });
    expect(res.status).toBe(200);
    expect(res.body.items.find((i: any) => i.product.id === product)).toMatchObject({ quantity: 2, subtotal: "200.00" });
  });
});

describe("one 400 names every failing field", () => {
  it("category: a taken name with an unknown parent and a wrongly typed description", async () => {
    const taken = await createCategory(admin.access);
    const res = await api("POST", "/api/categories/", {
      token: admin.access,
      body: { name: taken.name.toUpperCase(), parent: 999999, description: 7 },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      name: ["category with this name already exists."],
      parent: ['Invalid pk "999999" - object does not exist.'],
      description: ["Not a valid string."],
    });
    // renaming a category to its own name is not a clash
    expect((await api("PATCH", `/api/categories/${taken.slug}/`, { token: admin.access, body: { name: taken.name } })).status).toBe(200);
  });

  it("product: an unknown category with a bad price", async () => {
    const res = await api("POST", "/api/products/", { token: admin.access, body: { name: unique("P "), price: "0", category: 999999 } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ price: ["Price must be greater than 0"], category: ['Invalid pk "999999" - object does not exist.'] });
  });
});

describe("read-only fields in the OpenAPI document", () => {
  it("are marked readOnly on the objects a client may send back", async () => {
    const doc = (await api("GET", "/openapi.json")).body;
    const readOnly = (name: string) =>
      Object.entries(schemaProperties(doc, doc.components.schemas[name]).properties)
        .filter(([, p]) => p.readOnly)
        .map(([key]) => key)
        .sort();
    expect(readOnly("User")).toEqual(["date_joined", "id"]);
    expect(readOnly("Category")).toEqual(["children", "created_at", "id", "slug", "updated_at"]);
    expect(readOnly("ProductDetail")).toEqual(["created_at", "id", "slug", "updated_at"]);
    expect(readOnly("ProductList")).toEqual(["category_name", "created_at", "id", "slug"]);
    expect(readOnly("Address")).toEqual(["created_at", "id"]);
    expect(readOnly("Order")).toEqual(
      ["created_at", "id", "items", "order_number", "payment_status", "refund_status", "status", "total_amount", "updated_at", "user_email"].sort(),
    );
  });
});

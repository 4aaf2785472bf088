import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { db } from "../src/db/client";
import { listQueries, type ProductFilters } from "../src/features/catalog/products.query";
import type { OrderingKey } from "../src/features/catalog/products.schemas";
import { availableStock } from "../src/inventory/inventory.client";
import { api, createAdmin, createCategory, createProduct, registerUser, unique } from "./helpers";

const admin = await createAdmin();
const customer = await registerUser("shopper");

type Listed = { id: number; name: string; price: string; stock: number; is_active: boolean; category_name: string; created_at: string };
const ids = (body: { results: Listed[] } | Listed[]) => ("results" in body ? body.results : body).map((p) => p.id);
const list = (query: string, token?: string) => api("GET", `/api/products/?${query}`, { token });

/** A category holding products with the given fields, created in order (so the last is the newest). */
async function catalogue(products: Record<string, unknown>[]) {
  const category = await createCategory(admin.access);
  const created = [];
  for (const fields of products) created.push(await createProduct(admin.access, { category: category.id, ...fields }));
  return { category, products: created };
}

describe("product create", () => {
  it("answers 201 with the full ProductDetail, id and slug included", async () => {
    const category = await createCategory(admin.access);
    const res = await api("POST", "/api/products/", {
      token: admin.access,
      body: { name: "Test Product", description: "A product for tests", price: "129900.00", stock: 100, category: category.id },
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(
      [
        "category",
        "created_at",
        "description",
        "id",
        "image_url",
        "is_active",
        "low_stock_threshold",
        "max_per_customer",
        "name",
        "price",
        "slug",
        "stock",
        "stock_shards",
        "updated_at",
      ].sort(),
    );
    expect(res.body).toMatchObject({ name: "Test Product", slug: "test-product", price: "129900.00", stock: 100, is_active: true, image_url: null });
    expect(res.body.category).toMatchObject({ id: category.id, slug: category.slug, children: [] });
  });

  it("defaults stock to 0 and accepts numeric prices and image URLs", async () => {
    const category = await createCategory(admin.access);
    const res = await api("POST", "/api/products/", {
      token: admin.access,
      body: { name: unique("Lamp "), price: 49.5, category: category.id, image_url: "https://cdn.example/lamp.jpg", is_active: false },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ price: "49.50", stock: 0, image_url: "https://cdn.example/lamp.jpg", is_active: false });
  });

  it("gives a duplicate name the next free slug", async () => {
    const name = unique("Same Name ");
    const first = await createProduct(admin.access, { name });
    const second = await createProduct(admin.access, { name });
    const third = await createProduct(admin.access, { name: `${name}!` });
    expect([second.slug, third.slug]).toEqual([`${first.slug}-2`, `${first.slug}-3`]);
  });

  it("writes the stock through the product's inventory object", async () => {
    const product = await createProduct(admin.access, { stock: 42 });
    expect(await availableStock(env, product.id)).toBe(42);
  });

  it("names each invalid field", async () => {
    const category = await createCategory(admin.access);
    const post = (body: Record<string, unknown>) => api("POST", "/api/products/", { token: admin.access, body });
    const valid = { name: unique("Valid "), price: "10.00", stock: 1, category: category.id };
    expect((await post({ ...valid, price: "0" })).body).toEqual({ price: ["Price must be greater than 0"] });
    expect((await post({ ...valid, price: "-5" })).body).toEqual({ price: ["Price must be greater than 0"] });
    expect((await post({ ...valid, price: "abc" })).body).toEqual({ price: ["A valid number is required."] });
    expect((await post({ ...valid, price: "1.999" })).body).toEqual({ price: ["Ensure that there are no more than 2 decimal places."] });
    expect((await post({ ...valid, stock: -1 })).body).toEqual({ stock: ["Stock cannot be negative"] });
    expect((await post({ ...valid, stock: 1.5 })).status).toBe(400);
    expect((await post({ ...valid, category: 999999 })).body).toEqual({ category: ['Invalid pk "999999" - object does not exist.'] });
    expect((await post({ ...valid, image_url: "not a url" })).body).toEqual({ image_url: ["Enter a valid URL."] });
    expect((await post({ ...valid, image_url: "javascript:alert(1)" })).body).toEqual({ image_url: ["Enter a valid URL."] });
    expect((await post({ ...valid, name: "   " })).body).toEqual({ name: ["This field may not be blank."] });
    const missing = await post({});
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.body).sort()).toEqual(["category", "name", "price"]);
  });

  it("is for admins only", async () => {
    const body = { name: "x", price: "1.00", category: 1 };
    expect((await api("POST", "/api/products/", { body })).status).toBe(401);
    expect((await api("POST", "/api/products/", { token: customer.access, body })).status).toBe(403);
  });
});

describe("product detail", () => {
  it("shows an active product to anyone, with its category tree", async () => {
    const parent = await createCategory(admin.access);
    const category = await createCategory(admin.access, { parent: parent.id });
    const product = await createProduct(admin.access, { category: category.id, description: "Detailed" });
    const res = await api("GET", `/api/products/${product.id}/`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: product.id, description: "Detailed", category: { id: category.id, parent: parent.id } });
  });

  it("hides inactive products from everyone but admins", async () => {
    const product = await createProduct(admin.access, { is_active: false });
    expect((await api("GET", `/api/products/${product.id}/`)).status).toBe(404);
    expect((await api("GET", `/api/products/${product.id}/`, { token: customer.access })).status).toBe(404);
    const asAdmin = await api("GET", `/api/products/${product.id}/`, { token: admin.access });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.is_active).toBe(false);
  });

  it("answers 404 JSON for unknown and malformed ids", async () => {
    for (const path of ["/api/products/999999/", "/api/products/abc/", "/api/products/-1/", "/api/products/1.5/"]) {
      const res = await api("GET", path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ detail: "Not found." });
    }
  });

  it("sends an ETag, a public Cache-Control for anonymous callers and 304 on a match", async () => {
    const product = await createProduct(admin.access);
    const first = await api("GET", `/api/products/${product.id}/`);
    const etag = first.headers.get("ETag")!;
    expect(etag).toBeTruthy();
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=30");
    const cached = await api("GET", `/api/products/${product.id}/`, { headers: { "If-None-Match": etag } });
    expect(cached.status).toBe(304);
    expect(cached.body).toBeNull();
    await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock: 3 } });
    const stale = await api("GET", `/api/products/${product.id}/`, { headers: { "If-None-Match": etag } });
    expect(stale.status).toBe(200);
    expect(stale.body.stock).toBe(3);
    const authed = await api("GET", `/api/products/${product.id}/`, { token: customer.access });
    expect(authed.headers.get("Cache-Control")).toBe("private, no-store");
    expect(authed.headers.get("Vary")).toContain("Authorization");
  });
});

describe("product update", () => {
  it("PATCH changes the given fields, keeps the slug and returns ProductDetail", async () => {
    const product = await createProduct(admin.access, { name: unique("Old Name ") });
    const res = await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { name: "New Name", price: "5.25" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: product.id, name: "New Name", slug: product.slug, price: "5.25", stock: 10 });
    expect(res.body.category.id).toBeTypeOf("number");
  });

  it("PUT needs name, price and category", async () => {
    const product = await createProduct(admin.access);
    const partial = await api("PUT", `/api/products/${product.id}/`, { token: admin.access, body: { name: "Only name" } });
    expect(partial.status).toBe(400);
    expect(Object.keys(partial.body).sort()).toEqual(["category", "price"]);
    const category = await createCategory(admin.access);
    const full = await api("PUT", `/api/products/${product.id}/`, {
      token: admin.access,
      body: { name: "Replaced", price: "7.00", category: category.id },
    });
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ name: "Replaced", price: "7.00", stock: 10, category: { id: category.id } });
  });

  it("sets stock through the inventory object and the list shows the projection", async () => {
    const { category, products } = await catalogue([{ stock: 5 }]);
    const res = await api("PATCH", `/api/products/${products[0].id}/`, { token: admin.access, body: { stock: 77 } });
    expect(res.body.stock).toBe(77);
    expect(await availableStock(env, products[0].id)).toBe(77);
    expect((await list(`category=${category.slug}`)).body.results[0].stock).toBe(77);
  });

  it("lets an admin see and reactivate an inactive product", async () => {
    const product = await createProduct(admin.access, { is_active: false });
    const res = await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { is_active: true } });
    expect(res.status).toBe(200);
    expect((await api("GET", `/api/products/${product.id}/`)).status).toBe(200);
  });

  it("refuses bad values, unknown categories and unknown products", async () => {
    const product = await createProduct(admin.access);
    const patch = (body: Record<string, unknown>, id = product.id) => api("PATCH", `/api/products/${id}/`, { token: admin.access, body });
    expect((await patch({ price: "0.00" })).body).toEqual({ price: ["Price must be greater than 0"] });
    expect((await patch({ stock: -3 })).body).toEqual({ stock: ["Stock cannot be negative"] });
    expect((await patch({ category: 424242 })).body).toEqual({ category: ['Invalid pk "424242" - object does not exist.'] });
    expect((await patch({ name: "x" }, 999999)).status).toBe(404);
    expect((await api("GET", `/api/products/${product.id}/`)).body.stock).toBe(10);
  });

  it("is for admins only", async () => {
    const product = await createProduct(admin.access);
    expect((await api("PATCH", `/api/products/${product.id}/`, { body: { name: "x" } })).status).toBe(401);
    expect((await api("PATCH", `/api/products/${product.id}/`, { token: customer.access, body: { name: "x" } })).status).toBe(403);
    expect((await api("PUT", `/api/products/${product.id}/`, { token: customer.access, body: { name: "x" } })).status).toBe(403);
  });
});

describe("product delete", () => {
  it("deletes a product", async () => {
    const product = await createProduct(admin.access);
    expect((await api("DELETE", `/api/products/${product.id}/`, { token: admin.access })).status).toBe(204);
    expect((await api("GET", `/api/products/${product.id}/`, { token: admin.access })).status).toBe(404);
    expect((await api("DELETE", `/api/products/${product.id}/`, { token: admin.access })).status).toBe(404);
  });

  it("refuses to delete a product that orders reference", async () => {
    const product = await createProduct(admin.access);
    const order = await env.DB.prepare(
      "INSERT INTO orders (user_id, order_number, total_paise, shipping_address) VALUES (?, ?, 10000, 'Somewhere') RETURNING id",
    )
      .bind(customer.id, `ORD-${unique("").toUpperCase().padEnd(12, "0").slice(0, 12)}`)
      .first<{ id: number }>();
    await env.DB.prepare("INSERT INTO order_items (order_id, product_id, quantity, price_paise, subtotal_paise) VALUES (?, ?, 1, 10000, 10000)")
      .bind(order!.id, product.id)
      .run();
    const res = await api("DELETE", `/api/products/${product.id}/`, { token: admin.access });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/appears in orders/);
    expect((await api("GET", `/api/products/${product.id}/`)).status).toBe(200);
  });

  it("is for admins only", async () => {
    const product = await createProduct(admin.access);
    expect((await api("DELETE", `/api/products/${product.id}/`)).status).toBe(401);
    expect((await api("DELETE", `/api/products/${product.id}/`, { token: customer.access })).status).toBe(403);
  });
});

describe("product list: visibility and shape", () => {
  it("shows anonymous callers and customers active products only; admins see all", async () => {
    const { category, products } = await catalogue([{ is_active: true }, { is_active: false }]);
    const [active, inactive] = products;
    expect(ids((await list(`category=${category.slug}`)).body)).toEqual([active.id]);
    expect(ids((await list(`category=${category.slug}`, customer.access)).body)).toEqual([active.id]);
    expect(ids((await list(`category=${category.slug}`, admin.access)).body)).toEqual([inactive.id, active.id]);
  });

  it("renders ProductList items with the category name and money as strings", async () => {
    const { category, products } = await catalogue([{ price: "1299.5", stock: 4 }]);
    const res = await list(`category=${category.slug}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 1, next: null, previous: null });
    expect(res.body.results[0]).toEqual({
      id: products[0].id,
      name: products[0].name,
      slug: products[0].slug,
      price: "1299.50",
      stock: 4,
      image_url: null,
      is_active: true,
      category_name: category.name,
      created_at: expect.any(String),
    });
  });
});

describe("product list: search", () => {
  it("finds substrings of the name or description, case-insensitively (?search=Test finds Test Product)", async () => {
    const tag = unique("qz");
    const { category, products } = await catalogue([
      { name: `Test Product ${tag}` },
      { name: `Other ${tag}`, description: "An attestation of quality" },
      { name: `Unrelated ${tag}` },
    ]);
    const scoped = (search: string) => list(`category=${category.slug}&search=${encodeURIComponent(search)}`);
    expect(ids((await scoped("Test")).body).sort()).toEqual([products[0].id, products[1].id].sort());
    expect(ids((await scoped("PRODUCT")).body)).toEqual([products[0].id]);
    expect(ids((await scoped("testation")).body)).toEqual([products[1].id]);
    expect((await list("search=Test")).body.results.map((p: Listed) => p.name)).toContain(`Test Product ${tag}`);
  });

  it("requires every term, and keeps quoted phrases together", async () => {
    const tag = unique("qy");
    const { products } = await catalogue([
      { name: `Android Phone ${tag}` },
      { name: `Widget ${tag}`, description: "runs android, a smart phone" },
      { name: `Phone Case ${tag}` },
    ]);
    expect(ids((await list(`search=${tag} android phone`)).body).sort()).toEqual([products[0].id, products[1].id].sort());
    expect(ids((await list(`search=${tag},android,phone`)).body).sort()).toEqual([products[0].id, products[1].id].sort());
    expect(ids((await list(`search=${encodeURIComponent(`${tag} "android phone"`)}`)).body)).toEqual([products[0].id]);
  });

  it("matches terms shorter than three characters too", async () => {
    const tag = unique("qx").replace(/[tv]/gi, "q"); // a tag holding "tv" would match the Sofa too
    const { products } = await catalogue([{ name: `TV stand ${tag}` }, { name: `Lamp ${tag}`, description: "fits any 4k tv" }, { name: `Sofa ${tag}` }]);
    expect(ids((await list(`search=${tag} tv`)).body).sort()).toEqual([products[0].id, products[1].id].sort());
    const { category, products: short } = await catalogue([{ name: "A1 battery" }, { name: "B2 cable" }]);
    expect(ids((await list(`category=${category.slug}&search=a1`)).body)).toEqual([short[0].id]);
    expect(ids((await list(`category=${category.slug}&search=%25`)).body)).toEqual([]);
    expect(ids((await list(`category=${category.slug}&search=_`)).body)).toEqual([]);
  });

  it("ranks the best matches first unless an ordering is given", async () => {
    const tag = unique("qw");
    const { products } = await catalogue([
      { name: `Plain item ${tag}`, description: `Somewhere in a long text, among many other words about furniture and rooms, it says ${tag}.` },
      { name: `${tag} ${tag} special`, description: `${tag} all the way` },
    ]);
    expect(ids((await list(`search=${tag}`)).body)).toEqual([products[1].id, products[0].id]);
    expect(ids((await list(`search=${tag}&ordering=created_at`)).body)).toEqual([products[0].id, products[1].id]);
  });

  it("treats FTS5 syntax and SQL as plain text: a correct answer, never a 500", async () => {
    const { category, products } = await catalogue([{ name: 'Quote "unit" (x) -minus* NEAR end' }, { name: "Plain words" }]);
    const hostile = [
      '"',
      '"unit',
      'unit"',
      "*",
      "unit*",
      "NEAR(unit end)",
      "-minus",
      "(x)",
      "unit OR plain",
      "name:plain",
      "^plain",
      "'; DROP TABLE products; --",
      "\\",
      "%",
      "a\u0000b",
      "🙂 emoji",
    ];
    for (const search of hostile) {
      const res = await list(`category=${category.slug}&search=${encodeURIComponent(search)}`);
      expect(res.status, search).toBe(200);
    }
    expect(ids((await list(`category=${category.slug}&search=${encodeURIComponent('"unit"')}`)).body)).toEqual([products[0].id]);
    expect(ids((await list(`category=${category.slug}&search=${encodeURIComponent("-minus*")}`)).body)).toEqual([products[0].id]);
    expect(ids((await list(`category=${category.slug}&search=${encodeURIComponent("NEAR(unit")}`)).body)).toEqual([]);
    expect(ids((await list(`category=${category.slug}&search=${encodeURIComponent("unit OR plain")}`)).body)).toEqual([]);
    expect((await api("GET", `/api/products/${products[1].id}/`)).status).toBe(200);
  });

  it("refuses searches that are too long or have too many terms", async () => {
    const long = await list(`search=${"a".repeat(201)}`);
    expect(long.status).toBe(400);
    expect(Object.keys(long.body)).toEqual(["search"]);
    const many = await list(`search=${Array.from({ length: 11 }, (_, i) => `t${i}`).join("+")}`);
    expect(many.status).toBe(400);
    expect(many.body).toEqual({ search: ["Use at most 10 search terms."] });
  });

  it("keeps the index in sync when a product is renamed, redescribed or deleted", async () => {
    const before = unique("oldterm");
    const after = unique("newterm");
    const product = await createProduct(admin.access, { name: `Gizmo ${before}` });
    expect(ids((await list(`search=${before}`)).body)).toEqual([product.id]);
    await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { name: `Gizmo ${after}` } });
    expect(ids((await list(`search=${before}`)).body)).toEqual([]);
    expect(ids((await list(`search=${after}`)).body)).toEqual([product.id]);
    const described = unique("descterm");
    await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { description: `now ${described}` } });
    expect(ids((await list(`search=${described}`)).body)).toEqual([product.id]);
    await api("DELETE", `/api/products/${product.id}/`, { token: admin.access });
    expect(ids((await list(`search=${after}`)).body)).toEqual([]);
    expect(ids((await list(`search=${described}`, admin.access)).body)).toEqual([]);
  });
});

describe("product list: filters", () => {
  it("filters by the slug of the product's own category", async () => {
    const parent = await createCategory(admin.access);
    const child = await createCategory(admin.access, { parent: parent.id });
    const inParent = await createProduct(admin.access, { category: parent.id });
    const inChild = await createProduct(admin.access, { category: child.id });
    expect(ids((await list(`category=${parent.slug}`)).body)).toEqual([inParent.id]);
    expect(ids((await list(`category=${child.slug}`)).body)).toEqual([inChild.id]);
    expect((await list("category=no-such-slug")).body).toMatchObject({ count: 0, results: [] });
  });

  it("filters by inclusive price bounds", async () => {
    const { category, products } = await catalogue([{ price: "10.00" }, { price: "20.50" }, { price: "30.00" }]);
    const scoped = (q: string) => list(`category=${category.slug}&ordering=price&${q}`);
    expect(ids((await scoped("min_price=20.50")).body)).toEqual([products[1].id, products[2].id]);
    expect(ids((await scoped("max_price=20.5")).body)).toEqual([products[0].id, products[1].id]);
    expect(ids((await scoped("min_price=11&max_price=30")).body)).toEqual([products[1].id, products[2].id]);
    expect(ids((await scoped("min_price=31")).body)).toEqual([]);
  });

  it("refuses price bounds that are not non-negative numbers, naming the field", async () => {
    for (const [field, value] of [
      ["min_price", "abc"],
      ["min_price", "-1"],
      ["max_price", "1e3"],
      ["max_price", "1.234"],
      ["min_price", ""],
      ["max_price", "99999999999999999999"],
    ]) {
      const res = await list(`${field}=${encodeURIComponent(value)}`);
      expect(res.status, `${field}=${value}`).toBe(400);
      expect(Object.keys(res.body)).toEqual([field]);
    }
  });

  it("in_stock=true keeps products with stock; other values are ignored", async () => {
    const { category, products } = await catalogue([{ stock: 0 }, { stock: 3 }]);
    expect(ids((await list(`category=${category.slug}&in_stock=true`)).body)).toEqual([products[1].id]);
    expect(ids((await list(`category=${category.slug}&in_stock=TRUE`)).body)).toEqual([products[1].id]);
    expect(ids((await list(`category=${category.slug}&in_stock=1`)).body)).toHaveLength(2);
  });

  it("combines search, category, price, stock and ordering", async () => {
    const tag = unique("combo");
    const { category, products } = await catalogue([
      { name: `${tag} cheap`, price: "5.00", stock: 5 },
      { name: `${tag} mid`, price: "50.00", stock: 5 },
      { name: `${tag} mid empty`, price: "60.00", stock: 0 },
      { name: `${tag} dear`, price: "500.00", stock: 5 },
      { name: `other mid`, price: "55.00", stock: 5 },
    ]);
    const res = await list(`search=${tag}&category=${category.slug}&min_price=10&max_price=100&in_stock=true&ordering=-price`);
    expect(ids(res.body)).toEqual([products[1].id]);
    const noStock = await list(`search=${tag}&category=${category.slug}&min_price=10&max_price=100&ordering=-price`);
    expect(ids(noStock.body)).toEqual([products[2].id, products[1].id]);
  });
});

describe("product list: ordering", () => {
  it("orders by price, name and created_at, both ways, newest first by default", async () => {
    const { category, products } = await catalogue([
      { name: "Banana", price: "2.00" },
      { name: "Apple", price: "3.00" },
      { name: "Cherry", price: "1.00" },
    ]);
    const [banana, apple, cherry] = products.map((p) => p.id);
    const order = async (ordering?: string) =>
      ids((await list(`category=${category.slug}${ordering === undefined ? "" : `&ordering=${ordering}`}`)).body);
    expect(await order()).toEqual([cherry, apple, banana]);
    expect(await order("price")).toEqual([cherry, banana, apple]);
    expect(await order("-price")).toEqual([apple, banana, cherry]);
    expect(await order("name")).toEqual([apple, banana, cherry]);
    expect(await order("-name")).toEqual([cherry, banana, apple]);
    expect(await order("created_at")).toEqual([banana, apple, cherry]);
    expect(await order("-created_at")).toEqual([cherry, apple, banana]);
  });

  it("applies several keys in turn", async () => {
    const { category, products } = await catalogue([
      { name: "B", price: "1.00" },
      { name: "A", price: "1.00" },
      { name: "C", price: "0.50" },
    ]);
    const res = await list(`category=${category.slug}&ordering=-price,name`);
    expect(ids(res.body)).toEqual([products[1].id, products[0].id, products[2].id]);
  });

  it("refuses unknown ordering fields", async () => {
    for (const ordering of ["stock", "-id", "price,bogus", "price;drop"]) {
      const res = await list(`ordering=${encodeURIComponent(ordering)}`);
      expect(res.status, ordering).toBe(400);
      expect(Object.keys(res.body)).toEqual(["ordering"]);
      expect(res.body.ordering[0]).toMatch(/^Invalid ordering/);
    }
  });
});

describe("product list: pagination", () => {
  it("pages with page and page_size, with DRF links and stable order", async () => {
    const { category, products } = await catalogue(Array.from({ length: 5 }, () => ({ price: "9.99" })));
    const newestFirst = products.map((p) => p.id).reverse();
    const base = `category=${category.slug}&ordering=price&page_size=2`;
    const first = await list(base);
    expect(first.body.count).toBe(5);
    expect(first.body.previous).toBeNull();
    expect(first.body.next).toBe(`https://shop.test/api/products/?category=${category.slug}&ordering=price&page=2&page_size=2`);
    const second = await list(`${base}&page=2`);
    expect(second.body.previous).toBe(`https://shop.test/api/products/?category=${category.slug}&ordering=price&page_size=2`);
    const third = await list(`${base}&page=3`);
    expect(third.body.next).toBeNull();
    // equal prices: id breaks the tie, so the pages cover every product exactly once
    expect([...ids(first.body), ...ids(second.body), ...ids(third.body)].sort()).toEqual([...newestFirst].sort());
    const byDate = [...ids((await list(`category=${category.slug}&page_size=3`)).body), ...ids((await list(`category=${category.slug}&page_size=3&page=2`)).body)];
    expect(byDate).toEqual(newestFirst);
  });

  it("answers 404 Invalid page. past the last page and for bad page numbers, and 400 for a page_size outside 1..100", async () => {
    const { category } = await catalogue([{}]);
    const past = await list(`category=${category.slug}&page=2`);
    expect(past.status).toBe(404);
    expect(past.body).toEqual({ detail: "Invalid page." });
    expect((await list("page=9007199254740991")).status).toBe(404);
    for (const query of ["page=0", "page=-1", "page=abc", "page=1.5", "page=99999999999999999999"]) {
      expect(await list(query), query).toMatchObject({ status: 404, body: { detail: "Invalid page." } });
    }
    for (const query of ["page_size=101", "page_size=0", "page_size=abc"]) expect((await list(query)).status, query).toBe(400);
    expect((await list("category=no-such-slug")).status).toBe(200);
  });

  it("sends an ETag and answers 304 while the page is unchanged", async () => {
    const { category } = await catalogue([{}]);
    const first = await list(`category=${category.slug}`);
    const etag = first.headers.get("ETag")!;
    const again = await api("GET", `/api/products/?category=${category.slug}`, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    await createProduct(admin.access, { category: category.id });
    const changed = await api("GET", `/api/products/?category=${category.slug}`, { headers: { "If-None-Match": etag } });
    expect(changed.status).toBe(200);
  });
});

describe("featured and low stock", () => {
  it("featured/ is a bare array of the 10 newest active products", async () => {
    const created = [];
    for (let i = 0; i < 11; i++) created.push(await createProduct(admin.access));
    await createProduct(admin.access, { is_active: false });
    const res = await api("GET", "/api/products/featured/");
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(ids(res.body)).toEqual(created.slice(1).map((p) => p.id).reverse());
    expect(res.headers.get("ETag")).toBeTruthy();
  });

  it("featured/ honours the list's filters", async () => {
    const { category, products } = await catalogue([{ price: "1.00" }, { price: "100.00" }, { price: "200.00", stock: 0 }]);
    expect(ids((await api("GET", `/api/products/featured/?category=${category.slug}&min_price=50`)).body)).toEqual([products[2].id, products[1].id]);
    expect(ids((await api("GET", `/api/products/featured/?category=${category.slug}&in_stock=true`)).body)).toEqual([products[1].id, products[0].id]);
    expect((await api("GET", "/api/products/featured/?min_price=x")).status).toBe(400);
  });

  it("low_stock/ lists active products with fewer than 10 units, for admins only", async () => {
    const { products } = await catalogue([{ stock: 9 }, { stock: 10 }, { stock: 0 }, { stock: 2, is_active: false }]);
    const res = await api("GET", "/api/products/low_stock/", { token: admin.access });
    expect(res.status).toBe(200);
    const listed = ids(res.body);
    expect(listed).toEqual(expect.arrayContaining([products[0].id, products[2].id]));
    expect(listed).not.toContain(products[1].id);
    expect(listed).not.toContain(products[3].id);
    expect(res.body.every((p: Listed) => p.stock < 10 && p.is_active)).toBe(true);
    expect((await api("GET", "/api/products/low_stock/")).status).toBe(401);
    expect((await api("GET", "/api/products/low_stock/", { token: customer.access })).status).toBe(403);
  });

  it("low_stock/ answers at most `limit` products, the emptiest first, and never more than 100", async () => {
    const category = await createCategory(admin.access);
    const rows = Array.from({ length: 105 }, (_, i) =>
      env.DB.prepare("INSERT INTO products (category_id, name, slug, price_paise, stock) VALUES (?, ?, ?, 100, ?)").bind(
        category.id,
        unique("Scarce "),
        unique("scarce-"),
        i % 10,
      ),
    );
    await env.DB.batch(rows);
    const everything = await env.DB.prepare("SELECT id FROM products WHERE is_active = 1 AND stock < 10 ORDER BY stock, id").all<{ id: number }>();
    const emptiest = everything.results.map((p) => p.id);
    expect(emptiest.length).toBeGreaterThan(100);

    const five = await api("GET", "/api/products/low_stock/?limit=5", { token: admin.access });
    expect(five.status).toBe(200);
    expect(ids(five.body)).toEqual(emptiest.slice(0, 5));
    for (const query of ["", "?limit=100", "?limit="]) {
      const res = await api("GET", `/api/products/low_stock/${query}`, { token: admin.access });
      expect(res.status, query).toBe(200);
      expect(ids(res.body), query).toEqual(emptiest.slice(0, 100));
    }
    // the document says 1..100: anything else is a 400 naming `limit`, never a silently different list
    for (const [limit, message] of [
      ["0", "Ensure this value is greater than or equal to 1."],
      ["-5", "Ensure this value is greater than or equal to 1."],
      ["101", "Ensure this value is less than or equal to 100."],
      ["abc", "A valid integer is required."],
      ["2.5", "A valid integer is required."],
    ]) {
      const res = await api("GET", `/api/products/low_stock/?limit=${limit}`, { token: admin.access });
      expect(res.status, limit).toBe(400);
      expect(res.body, limit).toEqual({ limit: [message] });
    }
    // the dashboard lists the same 100
    const dashboard = await api("GET", "/api/products/analytics/", { token: admin.access });
    expect(ids(dashboard.body.low_stock_products)).toEqual(emptiest.slice(0, 100));
    const doc = (await api("GET", "/openapi.json")).body;
    expect(doc.paths["/api/products/low_stock/"].get.parameters).toEqual([
      expect.objectContaining({ name: "limit", in: "query", required: false, schema: expect.objectContaining({ maximum: 100 }) }),
    ]);
  });
});

describe("catalogue in the OpenAPI document", () => {
  it("documents every catalogue route", async () => {
    const doc = (await api("GET", "/openapi.json")).body;
    for (const path of [
      "/api/categories/",
      "/api/categories/all/",
      "/api/categories/{slug}/",
      "/api/products/",
      "/api/products/{id}/",
      "/api/products/featured/",
      "/api/products/low_stock/",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths["/api/products/{id}/"]).sort()).toEqual(["delete", "get", "patch", "put"]);
    expect(doc.paths["/api/products/low_stock/"].get.security).toEqual([{ Bearer: [] }]);
  });
});

describe("query plans", () => {
  const page = { page: 1, pageSize: 50, limit: 50, offset: 0 };
  async function plan(query: { toSQL(): { sql: string; params: unknown[] } }) {
    const { sql, params } = query.toSQL();
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    return results.map((r) => r.detail);
  }

  it("lists and counts active products from indexes, never a products table scan", async () => {
    const cases: [ProductFilters, OrderingKey[] | undefined][] = [
      [{ activeOnly: true }, undefined],
      [{ activeOnly: true, category: "phones" }, undefined],
      [{ activeOnly: true, minPrice: 100 }, [{ field: "price", desc: false }]],
      [{ activeOnly: true, inStock: true }, [{ field: "name", desc: true }]],
    ];
    for (const [filters, ordering] of cases) {
      const queries = listQueries(db(env.DB), filters, ordering, page);
      for (const steps of [await plan(queries.rows), await plan(queries.count)]) {
        expect(steps.join(" | ")).not.toMatch(/SCAN (products|"products")\b(?! USING)/);
        expect(steps.some((s) => /USING (COVERING )?INDEX (products_|sqlite_autoindex_catalog_counts)/.test(s)), steps.join(" | ")).toBe(true);
      }
    }
  });

  it("counts a page without a search or price bound from one maintained row, not over the catalogue", async () => {
    for (const filters of [{ activeOnly: true }, { activeOnly: false, inStock: true }, { activeOnly: true, category: "x" }] as ProductFilters[]) {
      const count = (await plan(listQueries(db(env.DB), filters, undefined, page).count)).join(" | ");
      expect(count).toMatch(/SEARCH catalog_counts USING INDEX sqlite_autoindex_catalog_counts_1 \(scope=\?\)/);
      expect(count).not.toContain("products_");
    }
  });

  it("walks the index of the requested order, or the category's, rather than sorting every match", async () => {
    const cases: [ProductFilters, OrderingKey[] | undefined, string, string][] = [
      [{ activeOnly: true, inStock: true }, undefined, "products_active_created_idx", "catalog_counts"],
      [{ activeOnly: true, minPrice: 100, inStock: true }, [{ field: "name", desc: false }], "products_active_name_idx", "products_active_"],
      [{ activeOnly: true, minPrice: 100 }, [{ field: "price", desc: true }], "products_active_price_idx", "products_active_price_idx"],
      [{ activeOnly: true, category: "x", inStock: true, maxPrice: 5 }, undefined, "products_category_created_idx", "products_category_created_idx"],
    ];
    for (const [filters, ordering, rowsIndex, countIndex] of cases) {
      const queries = listQueries(db(env.DB), filters, ordering, page);
      const rows = (await plan(queries.rows)).join(" | ");
      const count = (await plan(queries.count)).join(" | ");
      expect(rows).toContain(rowsIndex);
      expect(rows).not.toContain("TEMP B-TREE");
      expect(count).toContain(countIndex);
    }
  });

  it("picks a deeper page's ids from the index alone, then reads only that page's products", async () => {
    const deep = { page: 20, pageSize: 50, limit: 50, offset: 950 };
    for (const [filters, ordering, index] of [
      [{ activeOnly: true }, undefined, "products_active_created_idx"],
      [{ activeOnly: true }, [{ field: "price", desc: true }], "products_active_price_idx"],
      [{ activeOnly: true, category: "x" }, undefined, "products_category_created_idx"],
    ] as [ProductFilters, OrderingKey[] | undefined, string][]) {
      const steps = (await plan(listQueries(db(env.DB), filters, ordering, deep).rows)).join(" | ");
      expect(steps).toContain(index);
      expect(steps).toMatch(/SEARCH products USING INTEGER PRIMARY KEY \(rowid=\?\)/);
      expect(steps).not.toMatch(/SCAN (products|"products")\b(?! USING)/);
    }
  });

  it("drives a search from the FTS index, so the MATCH runs once (not once per product)", async () => {
    const filterSets: ProductFilters[] = [
      { activeOnly: true, searchTerms: ["phone"] },
      { activeOnly: false, searchTerms: ["phone", "case"] },
      { activeOnly: true, searchTerms: ["phone"], category: "x", inStock: true },
      { activeOnly: true, searchTerms: ["phone", "ab"], minPrice: 100, maxPrice: 1000 },
    ];
    for (const [filters, ordering] of filterSets.flatMap((f) => [[f, undefined], [f, [{ field: "price", desc: false }]]] as const)) {
      const queries = listQueries(db(env.DB), filters, ordering as OrderingKey[] | undefined, page);
      for (const steps of [await plan(queries.rows), await plan(queries.count)]) {
        const fts = steps.findIndex((s) => s.includes("products_fts VIRTUAL TABLE"));
        const products = steps.findIndex((s) => /SEARCH products USING INTEGER PRIMARY KEY/.test(s));
        expect(fts, steps.join(" | ")).toBeGreaterThanOrEqual(0);
        expect(products, steps.join(" | ")).toBeGreaterThan(fts);
      }
    }
  });
});

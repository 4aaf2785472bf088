/**
 * Defects found by the fresh-eyes review of issue 20 (docs/review.md lists every finding with the test that covers
 * it). Each test here failed before its fix.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createAdmin, createProduct, registerUser, unique, type TestUser } from "./helpers";
import { fillCart, insertCategory, insertProduct, stockOf } from "./fixtures";

let admin: TestUser;
let alice: TestUser;
beforeAll(async () => {
  admin = await createAdmin();
  alice = await registerUser("review");
});

describe("numeric path ids", () => {
  it("reads an id only from decimal digits: 0x10, 1e1, +2, 2.0 and ' 2' are not ids (404), as in the original", async () => {
    const product = await insertProduct({ stock: 3 });
    expect((await api("GET", `/api/products/${product}/`)).status).toBe(200);
    expect((await api("GET", `/api/products/0${product}/`)).status).toBe(200); // Django's int("02") is 2 too
    const aliases = [`0x${product.toString(16)}`, `${product}e0`, `+${product}`, `${product}.0`, `%20${product}`, `${product}%20`, "0b1", "Infinity"];
    for (const alias of aliases) {
      expect((await api("GET", `/api/products/${alias}/`)).status, alias).toBe(404);
      expect((await api("GET", `/api/orders/${alias}/`, { token: alice.access })).status, alias).toBe(404);
      expect((await api("PATCH", `/api/products/${alias}/`, { token: admin.access, body: { stock: 0 } })).status, alias).toBe(404);
    }
    expect((await api("GET", `/api/products/${product}/`, { token: admin.access })).body.stock).toBe(3);
    for (const bad of ["-0", "0", "1e309", "12345678901234567890", "9007199254740992"]) {
      expect((await api("GET", `/api/products/${bad}/`)).status, bad).toBe(404);
    }
  });
});

describe("security headers on every response", () => {
  it("static files served without the Worker (the /docs UI) carry the Worker's security headers too", async () => {
    for (const path of ["/docs/init.js", "/docs/vendor/swagger-ui-bundle.js", "/docs/vendor/swagger-ui.css"]) {
      const res = await env.ASSETS.fetch(`https://shop.test${path}`);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
      expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
      expect(res.headers.get("Strict-Transport-Security"), path).toMatch(/max-age=\d+/);
      expect(res.headers.get("X-Frame-Options"), path).toBe("SAMEORIGIN");
    }
    expect((await env.ASSETS.fetch("https://shop.test/_headers")).status).toBe(404); // the rules file is not served
  });

  it("the Worker's own answers, errors included, carry them with CORS", async () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ["GET", "/health", {}],
      ["GET", "/nowhere", {}],
      ["GET", "/api/products/", {}],
      ["GET", "/api/orders/", {}],
      ["POST", "/api/auth/login/", { raw: "{not json" }],
      ["GET", "/openapi.json", {}],
      ["GET", "/docs", {}],
    ];
    for (const [method, path, opts] of cases) {
      const res = await api(method, path, { ...opts, headers: { Origin: "https://shop.example" } });
      expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
      expect(res.headers.get("Strict-Transport-Security"), path).toMatch(/max-age=\d+/);
      expect(res.headers.get("Access-Control-Allow-Origin"), path).toBe("*");
    }
  });
});

describe("CORS for browser clients", () => {
  it("lets a browser read Idempotent-Replayed on a replayed checkout (it was not an exposed header)", async () => {
    const buyer = await registerUser("cors");
    await fillCart(buyer.id, [[await insertProduct({ stock: 5 }), 1]]);
    const request = { token: buyer.access, body: { shipping_address: "1 CORS Lane, Pune" }, headers: { Origin: "https://shop.example", "Idempotency-Key": `cors-${buyer.id}` } };
    const first = await api("POST", "/api/orders/create_order/", request);
    expect(first.status).toBe(201);
    const replay = await api("POST", "/api/orders/create_order/", request);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    const exposed = (replay.headers.get("Access-Control-Expose-Headers") ?? "").split(",").map((h) => h.trim().toLowerCase());
    expect(exposed).toContain("idempotent-replayed");
  });
});

describe("bounded per-user data", () => {
  it("saves at most 50 addresses per user, even when 60 are created at once", async () => {
    const user = await registerUser("addr");
    const address = (i: number) => ({ street_address: `${i} Long Road`, city: "Pune", state: "MH", postal_code: "411001" });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => api("POST", "/api/auth/addresses/", { token: user.access, body: address(i) })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(50);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(10);
    for (const r of refused) expect(r.body).toEqual({ non_field_errors: ["You can save at most 50 addresses. Delete one first."] });
    expect((await api("GET", "/api/auth/addresses/", { token: user.access })).body).toHaveLength(50);
    // another user is not affected, and a deleted address makes room again
    expect((await api("POST", "/api/auth/addresses/", { token: alice.access, body: address(1) })).status).toBe(201);
    await api("DELETE", `/api/auth/addresses/${results[0].body.id}/`, { token: user.access });
    expect((await api("POST", "/api/auth/addresses/", { token: user.access, body: address(99) })).status).toBe(201);
  });
});

describe("cache keys never mix who asked", () => {
  it("an admin's catalogue answers (inactive products) never reach anonymous callers through the memo or the edge cache, nor the other way", async () => {
    const hidden = await createProduct(admin.access, { name: unique("Unreleased Gadget "), is_active: false });
    const search = `/api/products/?search=${encodeURIComponent(hidden.name)}`;
    for (const [first, second] of [[admin.access, undefined], [undefined, admin.access]] as const) {
      const path = `${search}&order=${first ? "admin-first" : "anon-first"}`;
      const a = await api("GET", path, { token: first });
      const b = await api("GET", path, { token: second });
      const [asAdmin, asAnonymous] = first ? [a, b] : [b, a];
      expect(asAdmin.body.count).toBe(1);
      expect(asAdmin.headers.get("Cache-Control")).toBe("private, no-store");
      expect(asAnonymous.body.count).toBe(0);
      expect(asAnonymous.headers.get("Cache-Control")).toBe("public, max-age=30");
    }
    const detail = `/api/products/${hidden.id}/`;
    expect((await api("GET", detail, { token: admin.access })).status).toBe(200);
    expect((await api("GET", detail)).status).toBe(404);
    expect((await api("GET", detail, { token: alice.access })).status).toBe(404);
  });
});

describe("admin stock writes", () => {
  it("a stock write to an id with no product answers 404 and leaves no inventory behind: the product created later with that id keeps its stock", async () => {
    const categoryId = await insertCategory();
    const [{ next }] = (await env.DB.prepare("SELECT coalesce(max(id), 0) + 1000 AS next FROM products").all<{ next: number }>()).results;
    for (const body of [{ stock: 5 }, { stock_adjustment: 3 }]) {
      expect((await api("PATCH", `/api/products/${next}/`, { token: admin.access, body })).status).toBe(404);
      expect((await api("PUT", `/api/products/${next}/`, { token: admin.access, body: { name: "Ghost", price: "10.00", category: categoryId, ...body } })).status).toBe(404);
    }
    await env.DB.prepare("INSERT INTO products (id, category_id, name, slug, price_paise, stock, is_active) VALUES (?, ?, 'Late Product', 'late-product', 1000, 7, 1)")
      .bind(next, categoryId)
      .run();
    expect((await stockOf(next)).available).toBe(7);
  });
});

describe("unicode slugs", () => {
  it("folds a unicode name to an ASCII slug, and answers a unicode or oversized slug in the path with a JSON 404", async () => {
    const name = unique("Café Crème Brûlée ");
    const created = await api("POST", "/api/categories/", { token: admin.access, body: { name } });
    expect(created.status).toBe(201);
    expect(created.body.slug).toMatch(/^cafe-creme-brulee-[a-z0-9]+$/);
    expect((await api("GET", `/api/categories/${created.body.slug}/`)).body.name).toBe(name);
    const japanese = await api("POST", "/api/categories/", { token: admin.access, body: { name: "日本語のカテゴリ" } });
    expect(japanese.body.slug).toMatch(/^category(-\d+)?$/);
    for (const slug of [encodeURIComponent(name), encodeURIComponent("日本語のカテゴリ"), "%F0%9F%8D%8E".repeat(400), "a".repeat(5000)]) {
      const res = await api("GET", `/api/categories/${slug}/`);
      expect(res.status, slug.slice(0, 40)).toBe(404);
      expect(res.body).toEqual({ detail: "Not found." });
    }
  });
});

describe("numbers and search text at their edges", () => {
  it("refuses 1e309, 0x10, fractions and 20-digit ids in bodies with a 400 naming the field, and takes -0 as 0", async () => {
    const product = await insertProduct({ stock: 5 });
    const raw = (text: string) => ({ raw: text, headers: { "Content-Type": "application/json" } });
    const cart = (json: string) => api("POST", "/api/cart/add/", raw(json));
    for (const [json, field] of [
      [`{"product_id": ${product}, "quantity": 1e309}`, "quantity"],
      [`{"product_id": ${product}, "quantity": "0x10"}`, "quantity"],
      [`{"product_id": ${product}, "quantity": 1.5}`, "quantity"],
      [`{"product_id": 12345678901234567890, "quantity": 1}`, "product_id"],
      [`{"product_id": 1e309, "quantity": 1}`, "product_id"],
      [`{"product_id": ${product}, "quantity": -0}`, "quantity"],
    ] as const) {
      const res = await cart(json);
      expect(res.status, json).toBe(400);
      expect(Object.keys(res.body), json).toEqual([field]);
    }
    const create = (json: string) => api("POST", "/api/products/", { ...raw(json), token: admin.access });
    const categoryId = await insertCategory();
    const body = (extra: string) => `{"name": "Edge ${unique("n")}", "category": ${categoryId}, ${extra}}`;
    for (const [extra, field] of [
      [`"price": 1e309`, "price"],
      [`"price": "0x10"`, "price"],
      [`"price": 0.30000000000000004`, "price"],
      [`"price": "10.00", "stock": 1e309`, "stock"],
      [`"price": "10.00", "stock": 12345678901234567890`, "stock"],
    ] as const) {
      const res = await create(body(extra));
      expect(res.status, extra).toBe(400);
      expect(Object.keys(res.body), extra).toEqual([field]);
    }
    const zero = await create(body(`"price": "10.00", "stock": -0`));
    expect(zero.status).toBe(201);
    expect(zero.body.stock).toBe(0);
  });

  it("answers a 10 KB search, or one full of FTS5 operators, without touching D1's FTS syntax", async () => {
    const long = await api("GET", `/api/products/?search=${"premium ".repeat(1280)}`);
    expect(long.status).toBe(400);
    expect(Object.keys(long.body)).toEqual(["search"]);
    for (const search of ['"', '""', "NEAR(a b, 2)", "a* ^b", "title:x OR y NOT z", "((("]) {
      const res = await api("GET", `/api/products/?search=${encodeURIComponent(search)}`);
      expect(res.status, search).toBe(200);
    }
  });
});

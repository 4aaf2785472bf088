/**
 * DRF pagination, the same on every paginated list: products, categories and orders go through one helper, so one
 * battery runs against each of them with more than 100 items.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { api, registerUser, type TestUser } from "./helpers";
import { insertCategory } from "./fixtures";

const ITEMS = 101;
let user: TestUser;

beforeAll(async () => {
  user = await registerUser();
  const categoryId = await insertCategory();
  const numbers = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ITEMS})`;
  await env.DB.batch([
    env.DB.prepare(`INSERT INTO categories (name, slug) ${numbers} SELECT 'Paged ' || i, 'paged-' || i FROM n`),
    env.DB.prepare(
      `INSERT INTO products (category_id, name, slug, price_paise, stock, is_active)
       ${numbers} SELECT ?, 'Paged product ' || i, 'paged-product-' || i, 1000 + i, 5, 1 FROM n`,
    ).bind(categoryId),
    env.DB.prepare(
      `INSERT INTO orders (user_id, order_number, total_paise, shipping_address)
       ${numbers} SELECT ?, printf('ORD-%012X', i), 1000, 'Somewhere' FROM n`,
    ).bind(user.id),
  ]);
});

const LISTS = [
  { list: "products", path: "/api/products/", token: () => undefined },
  { list: "categories", path: "/api/categories/", token: () => undefined },
  { list: "orders", path: "/api/orders/", token: () => user.access },
];

describe.each(LISTS)("$list list pages as DRF does", ({ path, token }) => {
  const get = (query: string) => api("GET", `${path}?${query}`, { token: token() });
  const url = (query: string) => `https://shop.test${path}${query ? `?${query}` : ""}`;

  it("answers page=last with the last page", async () => {
    const last = await get("page=last");
    expect(last.status).toBe(200);
    const lastPage = Math.ceil(last.body.count / 50);
    expect(last.body.count).toBeGreaterThanOrEqual(ITEMS);
    expect(last.body.results).toHaveLength(last.body.count - 50 * (lastPage - 1));
    expect(last.body.next).toBeNull();
    expect(last.body.previous).toBe(url(`page=${lastPage - 1}`));
    expect(last.body).toEqual((await get(`page=${lastPage}`)).body);
  });

  it("answers 404 Invalid page. to a page that is not a positive integer or is past the end", async () => {
    const { count } = (await get("")).body;
    const pastTheEnd = String(Math.ceil(count / 50) + 1);
    for (const page of ["0", "-1", "abc", "1.5", "1e2", "lastt", "99999999999999999999", pastTheEnd]) {
      const res = await get(`page=${page}`);
      expect(res.status, page).toBe(404);
      expect(res.body).toEqual({ detail: "Invalid page." });
    }
  });

  it("reads an empty page= as the first page and a repeated page as its last value", async () => {
    expect((await get("page=")).body.previous).toBeNull();
    expect((await get("page=9&page=2")).body.previous).toBe(url(""));
  });

  it("answers 100 per page at page_size=100 and keeps page_size in next and previous", async () => {
    const res = await get("page_size=100");
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(100);
    expect(res.body.next).toBe(url("page=2&page_size=100"));
    const second = await get("page=2&page_size=100");
    expect(second.body.previous).toBe(url("page_size=100"));
  });

  it("refuses a page_size outside 1..100, as the document says, with a 400 naming page_size", async () => {
    const cases: [string, string][] = [
      ["0", "Ensure this value is greater than or equal to 1."],
      ["-5", "Ensure this value is greater than or equal to 1."],
      ["101", "Ensure this value is less than or equal to 100."],
      ["100000000000000000000", "Ensure this value is less than or equal to 100."],
      ["abc", "A valid integer is required."],
      ["1.5", "A valid integer is required."],
    ];
    for (const [size, message] of cases) {
      const res = await get(`page_size=${size}`);
      expect(res.status, size).toBe(400);
      expect(res.body, size).toEqual({ page_size: [message] });
    }
  });

  it("reads an empty page_size= as the default 50 and a repeated one by its last value", async () => {
    const empty = await get("page_size=");
    expect(empty.status).toBe(200);
    expect(empty.body.results).toHaveLength(50);
    expect((await get("page_size=500&page_size=3")).body.results).toHaveLength(3);
  });
});

describe("paginated lists in the OpenAPI document", () => {
  it("document page as a number or last, page_size as an integer 1..100 with its 400, and 404 for an invalid page", async () => {
    const doc = (await api("GET", "/openapi.json")).body;
    for (const { path } of LISTS) {
      const op = doc.paths[path].get;
      const params = Object.fromEntries(op.parameters.map((p: any) => [p.name, p.schema]));
      expect(params.page).toMatchObject({ type: "string" });
      expect(params.page_size).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 50 });
      expect(op.responses).toHaveProperty("404");
      expect(op.responses["400"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/FieldErrors" });
    }
  });
});

/** The contract check that `api()` runs on every response can fail: deliberately wrong responses are refused. */
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { Contract } from "./contract";
import { checkContract, createAdmin, createProduct, loadContract } from "./helpers";

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers({ "Content-Type": "application/json", ...headers }),
  text: JSON.stringify(body),
});

let contract: Contract;
let product: Awaited<ReturnType<typeof createProduct>>;

beforeAll(async () => {
  contract = await loadContract();
  product = await createProduct((await createAdmin()).access);
});

describe("the contract check on every response", () => {
  it("accepts a response the document describes", async () => {
    const res = await fetchJson(`/api/products/${product.id}/`);
    expect(contract.violations("GET", `/api/products/${product.id}/`, res)).toEqual([]);
  });

  it("fails the test that sees a status the route does not document", async () => {
    await expect(checkContract("GET", "/api/products/featured/", json(418, { detail: "I'm a teapot" }))).rejects.toThrow(
      "Response to GET /api/products/featured/ does not match the OpenAPI document:\n  status 418 is not documented for GET /api/products/featured/",
    );
  });

  it("refuses a body that does not match the route's schema", async () => {
    const good = await fetchJson(`/api/products/${product.id}/`);
    const wrong = { ...JSON.parse(good.text), price: 100, category: undefined };
    const problems = contract.violations("GET", `/api/products/${product.id}/`, json(200, wrong));
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^GET \/api\/products\/\{id\}\/ 200: body\/price: /), expect.stringMatching(/category/)]),
    );
  });

  it("refuses a documented error without its required header, or with a body where none is documented", () => {
    expect(contract.violations("POST", "/api/auth/login/", json(429, { detail: "Too many failed login attempts." }))).toEqual([
      "POST /api/auth/login/ 429: required header Retry-After is missing",
    ]);
    expect(contract.violations("DELETE", "/api/products/1/", json(204, { deleted: true }))).toEqual([
      'DELETE /api/products/{id}/ 204: a body was sent, but none is documented: {"deleted":true}',
    ]);
  });

  it("refuses a body that is not JSON where JSON is documented", () => {
    const text = { status: 400, headers: new Headers({ "Content-Type": "text/plain" }), text: "Malformed JSON in request body" };
    expect(contract.violations("POST", "/api/cart/add/", text)).toEqual([
      'POST /api/cart/add/ 400: Content-Type "text/plain" is not documented (documented: application/json)',
    ]);
  });

  it("refuses a request body the server accepted but the document does not allow", () => {
    const problems = contract.violations("POST", "/api/cart/add/", json(200, {}), { product_id: 1, quantity: "two" });
    expect(problems).toEqual(
      expect.arrayContaining([
        'POST /api/cart/add/ 200: the server accepted a request body the document refuses: body/quantity: String does not match pattern.',
      ]),
    );
  });

  it("refuses an error body whose shape the route does not document, and accepts each route's own shapes", () => {
    const notFound = contract.violations("GET", "/api/products/7/", json(404, { error: "Not found" }));
    expect(notFound?.join("\n")).toMatch(/^GET \/api\/products\/\{id\}\/ 404: body/);
    expect(contract.violations("GET", "/api/products/7/", json(404, { detail: "Not found." }))).toEqual([]);
    expect(contract.violations("PATCH", "/api/cart/items/7/", json(404, { error: "Cart item not found" }))).toEqual([]);
    expect(contract.violations("POST", "/api/cart/add/", json(400, { quantity: ["Only 2 items available in stock"] }))).toEqual([]);
    expect(contract.violations("POST", "/api/cart/add/", json(400, { error: "Only 2 items available in stock" }))).toEqual([]);
    expect(contract.violations("POST", "/api/cart/add/", json(400, { quantity: "not a list" }))).not.toEqual([]);
    expect(contract.violations("GET", "/api/auth/profile/", json(401, { detail: "Given token not valid for any token type", code: "token_not_valid" }))).toEqual([]);
    expect(contract.violations("GET", "/api/auth/profile/", json(401, { error: "Unauthorized" }))).not.toEqual([]);
  });

  it("refuses a product update with both stock and stock_adjustment in the document too, as the server does", () => {
    for (const method of ["PUT", "PATCH"]) {
      const both = { name: "Kettle", price: "10.00", category: 1, stock: 5, stock_adjustment: 2 };
      const problems = contract.violations(method, "/api/products/7/", json(200, {}), both);
      expect(problems?.join("\n"), method).toMatch(/the server accepted a request body the document refuses/);
    }
  });

  it("matches a literal path segment before a parameter, as the router does", () => {
    expect(contract.route("GET", "/api/products/featured/?category=x")?.template).toBe("/api/products/featured/");
    expect(contract.route("GET", "/api/products/7/")?.template).toBe("/api/products/{id}/");
    expect(contract.route("GET", "/docs")).toBeUndefined();
  });
});

describe("errors in the OpenAPI document", () => {
  it("document every error as DRF's {detail}, {error} or field errors, never as any object", async () => {
    const doc = await (await SELF.fetch("https://shop.test/openapi.json")).json<any>();
    const shapes = new Set(["#/components/schemas/DetailError", "#/components/schemas/MessageError", "#/components/schemas/FieldErrors"]);
    expect(doc.components.schemas.Error).toBeUndefined();
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          const schema = response.content?.["application/json"]?.schema;
          if (Number(status) < 400 || !schema) continue;
          const refs = (schema.anyOf ?? [schema]).map((s: any) => s.$ref);
          for (const ref of refs) expect(shapes.has(ref), `${method} ${path} ${status}: ${ref}`).toBe(true);
        }
      }
    }
  });
});

async function fetchJson(path: string) {
  const res = await SELF.fetch(`https://shop.test${path}`);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

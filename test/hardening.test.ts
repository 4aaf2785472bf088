/**
 * Property-based hardening: every documented route, called with hostile bodies, queries and path values, answers a
 * JSON error with a message (never a 5xx, never HTML), and a 4xx writes nothing to D1. Unknown and privileged keys
 * in a body are ignored (as DRF does), so whatever the answer, nothing is written from them.
 */
import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createAdmin, registerUser, type TestUser } from "./helpers";
import { insertProduct } from "./fixtures";

interface Operation {
  method: string;
  path: string;
  hasBody: boolean;
  query: string[];
}

let admin: TestUser;
let user: TestUser;
let operations: Operation[];

const TABLES = ["users", "addresses", "categories", "products", "carts", "cart_items", "orders", "order_items", "payments", "webhook_events"];

/** What a privileged key could change if it were written: who is staff, and whether any order looks paid. */
async function privilegedState() {
  const [staff, paid] = await env.DB.batch([
    env.DB.prepare("SELECT id FROM users WHERE is_staff = 1 ORDER BY id"),
    env.DB.prepare("SELECT count(*) AS n FROM orders WHERE payment_status != 'pending' OR status != 'pending'"),
  ]);
  return { staff: staff.results, paid: paid.results[0] };
}

async function rowCounts(): Promise<number[]> {
  const results = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`SELECT count(*) AS n FROM ${t}`)));
  return results.map((r) => (r.results[0] as { n: number }).n);
}

beforeAll(async () => {
  admin = await createAdmin();
  user = await registerUser();
  await insertProduct({ stock: 5 });
  const doc = (await api("GET", "/openapi.json")).body;
  operations = Object.entries<Record<string, any>>(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      hasBody: Boolean(op.requestBody),
      query: (op.parameters ?? []).filter((p: any) => p.in === "query").map((p: any) => p.name),
    })),
  );
});

/** Hostile JSON values: wrong types, huge and odd strings, extreme numbers, nesting, injection syntax. */
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.constantFrom(
    "",
    " ",
    "x".repeat(5000),
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    'NEAR("a" "b")',
    "*",
    "-foo",
    "(a OR b) AND NOT c",
    '"unterminated',
    "\u0000",
    "🛒🔥",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "1e309",
    "NaN",
  ),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 53, -(2 ** 63), 1e308, 0.001, 999, 1000, Number.MAX_SAFE_INTEGER + 2),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(hostileString, hostileNumber), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), hostileString, { maxKeys: 3 }),
);
const FIELD_NAMES = [
  "username", "email", "password", "password2", "refresh", "old_password", "new_password", "name", "description", "parent",
  "price", "stock", "category", "image_url", "is_active", "product_id", "quantity", "shipping_address", "shipping_address_id",
  "status", "order_id", "razorpay_order_id", "razorpay_payment_id", "razorpay_signature", "is_staff", "id", "street_address",
  "city", "state", "postal_code", "country", "phone", "is_default", "address_type", "first_name", "last_name",
  // privileged and read-only keys: ignored wherever they are sent
  "is_superuser", "user", "user_id", "payment_status", "total_amount", "order_number", "slug", "date_joined", "created_at",
];
const PRIVILEGED = { is_staff: true, is_superuser: true, user: 1, payment_status: "success", status: "paid", total_amount: "0.01" };
const hostileBody = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELD_NAMES), hostileValue, { maxKeys: 6 }),
  fc.dictionary(fc.constantFrom(...FIELD_NAMES), hostileValue, { maxKeys: 6 }).map((fields) => ({ ...fields, ...PRIVILEGED })),
  hostileValue,
  fc.constantFrom("{not json", "[", "null", '{"a":', "\u0000"),
).map((v) => (typeof v === "string" && /^[{[n\u0000]/.test(v) ? { raw: v } : { body: v }));
const hostilePathValue = fc.oneof(
  fc.constantFrom("0", "-1", "abc", "1.5", "99999999999999999999", "%20", "null", "1e3", "9007199254740993"),
  fc.string({ minLength: 1, maxLength: 20 }).map(encodeURIComponent),
);

function expectSafeError(res: { status: number; body: unknown }, label: string) {
  expect(res.status, label).toBeLessThan(500);
  if (res.status >= 400) {
    expect(typeof res.body, `${label}: JSON error body`).toBe("object");
    expect(Object.keys(res.body as object).length, `${label}: error names something`).toBeGreaterThan(0);
  }
}

describe("hostile input never causes a 5xx", () => {
  it("bodies: every route with a JSON body, as an admin and as a user", async () => {
    expect(operations.filter((o) => o.hasBody).length).toBeGreaterThanOrEqual(20);
    let privileged = await privilegedState();
    for (const op of operations.filter((o) => o.hasBody)) {
      await fc.assert(
        fc.asyncProperty(hostileBody, fc.boolean(), async (payload, asAdmin) => {
          const before = await rowCounts();
          const path = op.path.replace(/\{[^}]+\}/g, "1");
          const res = await api(op.method, path, { token: asAdmin ? admin.access : user.access, ...payload });
          expectSafeError(res, `${op.method} ${path} ${JSON.stringify(payload).slice(0, 200)}`);
          if (res.status >= 400) expect(await rowCounts(), `${op.method} ${path} wrote on ${res.status}`).toEqual(before);
          const after = await privilegedState();
          if (!path.endsWith("/update_status/")) expect(after, `${op.method} ${path} wrote a privileged field`).toEqual(privileged);
          else {
            // the one route whose job is to set an order's status (as an admin)
            expect(after.staff, `${op.method} ${path} made someone staff`).toEqual(privileged.staff);
            privileged = after;
          }
        }),
        { numRuns: 25 },
      );
    }
    // About a thousand requests, each crossing the hop to the data side (in this one isolate): 3 s on an idle machine,
    // past the default 30 s on a loaded one.
  }, 120_000);

  it("query strings: every list route with hostile parameter values", async () => {
    const lists = operations.filter((o) => o.method === "GET" && o.query.length);
    expect(lists.map((o) => o.path)).toEqual(expect.arrayContaining(["/api/products/", "/api/orders/sales_report/"]));
    for (const op of lists) {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...op.query), hostileString, { minKeys: 1, maxKeys: 3 }), async (query) => {
          const path = `${op.path.replace(/\{[^}]+\}/g, "1")}?${new URLSearchParams(query)}`;
          const res = await api("GET", path, { token: admin.access });
          expectSafeError(res, `GET ${path}`);
        }),
        { numRuns: 30 },
      );
    }
  });

  it("path values: every route with a path parameter", async () => {
    for (const op of operations.filter((o) => o.path.includes("{"))) {
      await fc.assert(
        fc.asyncProperty(hostilePathValue, async (value) => {
          const path = op.path.replace(/\{[^}]+\}/g, value);
          const res = await api(op.method, path, { token: admin.access, body: op.hasBody ? {} : undefined });
          expectSafeError(res, `${op.method} ${path}`);
        }),
        { numRuns: 15 },
      );
    }
  });

  it("headers: hostile Authorization, Idempotency-Key, X-Cart-Id and cookies", async () => {
    await fc.assert(
      fc.asyncProperty(hostileString, fc.constantFrom("Authorization", "Idempotency-Key", "X-Cart-Id", "Cookie"), async (value, header) => {
        const safe = value.replace(/[^\t\x20-\x7e]/g, "");
        const v = header === "Authorization" ? `Bearer ${safe}` : header === "Cookie" ? `cart_id=${safe}` : safe;
        for (const [method, path] of [["GET", "/api/cart/"], ["POST", "/api/orders/create_order/"], ["GET", "/api/products/"]]) {
          const res = await api(method, path, { headers: { [header]: v }, body: method === "POST" ? { shipping_address: "x" } : undefined });
          expectSafeError(res, `${method} ${path} ${header}: ${v.slice(0, 80)}`);
        }
      }),
      { numRuns: 40 },
    );
  });
});

/**
 * Access control matrix. The first part is derived from /openapi.json, so a new route cannot forget it: every route
 * that declares bearer security refuses anonymous and forged callers, and every route that documents 403 refuses a
 * plain user. The second part checks broken object-level authorization: user B never sees or changes user A's things.
 */
import jwt from "@tsndr/cloudflare-worker-jwt";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createAdmin, registerUser, type TestUser } from "./helpers";
import { fillCart, insertProduct } from "./fixtures";

interface Operation {
  method: string;
  path: string;
  secured: boolean;
  adminOnly: boolean;
  hasBody: boolean;
}

let operations: Operation[];
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  const doc = (await api("GET", "/openapi.json")).body;
  operations = Object.entries<Record<string, any>>(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{[^}]+\}/g, "1"),
      // `security: [{Bearer: []}, {}]` documents optional auth (e.g. the cart): not a protected route
      secured: Array.isArray(op.security) && op.security.length > 0 && !op.security.some((s: object) => Object.keys(s).length === 0),
      adminOnly: "403" in op.responses,
      hasBody: Boolean(op.requestBody),
    })),
  );
  admin = await createAdmin();
  alice = await registerUser("alice");
  bob = await registerUser("bob");
});

describe("every protected route, from the OpenAPI document", () => {
  it("documents security on the routes that need it", () => {
    const secured = operations.filter((o) => o.secured).map((o) => `${o.method} ${o.path}`);
    for (const route of ["GET /api/auth/profile/", "POST /api/orders/create_order/", "GET /api/products/low_stock/", "POST /api/payments/initiate/"]) {
      expect(secured).toContain(route);
    }
    expect(secured).not.toContain("POST /api/payments/webhook/");
  });

  it("refuses anonymous callers with 401", async () => {
    for (const op of operations.filter((o) => o.secured)) {
      const res = await api(op.method, op.path, { body: op.hasBody ? {} : undefined });
      expect(res.status, `${op.method} ${op.path}`).toBe(401);
      expect(res.body).toEqual({ detail: "Authentication credentials were not provided." });
    }
  });

  it("refuses forged, expired and refresh tokens with 401", async () => {
    const { payload } = jwt.decode(alice.access);
    const forged = await jwt.sign({ ...payload }, "not-our-secret");
    const expired = await jwt.sign({ ...payload, exp: Math.floor(Date.now() / 1000) - 1 }, "not-our-secret");
    for (const op of operations.filter((o) => o.secured)) {
      for (const token of [forged, expired, alice.refresh]) {
        const res = await api(op.method, op.path, { token, body: op.hasBody ? {} : undefined });
        expect(res.status, `${op.method} ${op.path}`).toBe(401);
        expect(res.body.code).toBe("token_not_valid");
      }
    }
  });

  it("refuses plain users on admin routes with 403", async () => {
    const adminRoutes = operations.filter((o) => o.adminOnly);
    expect(adminRoutes.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(["GET /api/products/low_stock/", "GET /api/products/analytics/", "GET /api/orders/sales_report/", "POST /api/products/"]),
    );
    for (const op of adminRoutes) {
      const res = await api(op.method, op.path, { token: alice.access, body: op.hasBody ? {} : undefined });
      expect(res.status, `${op.method} ${op.path}`).toBe(403);
      expect(res.body).toEqual({ detail: "You do not have permission to perform this action." });
    }
  });

  it("lets admins through the admin guard", async () => {
    for (const op of operations.filter((o) => o.adminOnly)) {
      const res = await api(op.method, op.path, { token: admin.access, body: op.hasBody ? {} : undefined });
      expect([401, 403], `${op.method} ${op.path}`).not.toContain(res.status);
    }
  });
});

describe("one user never reaches another user's things", () => {
  it("addresses", async () => {
    const created = await api("POST", "/api/auth/addresses/", {
      token: alice.access,
      body: { street_address: "1 Lane", city: "Pune", state: "MH", postal_code: "411001" },
    });
    for (const [method, body] of [["GET"], ["PATCH", { city: "X" }], ["DELETE"]] as const) {
      expect((await api(method, `/api/auth/addresses/${created.body.id}/`, { token: bob.access, body })).status).toBe(404);
    }
    expect((await api("GET", `/api/auth/addresses/${created.body.id}/`, { token: alice.access })).body.city).toBe("Pune");
  });

  it("orders", async () => {
    const product = await insertProduct({ stock: 10 });
    await fillCart(alice.id, [[product, 1]]);
    const order = (await api("POST", "/api/orders/create_order/", { token: alice.access, body: { shipping_address: "A" } })).body;
    expect((await api("GET", `/api/orders/${order.id}/`, { token: bob.access })).status).toBe(404);
    expect((await api("POST", `/api/orders/${order.id}/cancel/`, { token: bob.access })).status).toBe(404);
    expect((await api("GET", "/api/orders/", { token: bob.access })).body.results).toEqual([]);
    expect((await api("GET", `/api/orders/${order.id}/`, { token: alice.access })).body.status).toBe("pending");
    expect((await api("GET", `/api/orders/${order.id}/`, { token: admin.access })).status).toBe(200);
  });

  it("cart items", async () => {
    const product = await insertProduct({ stock: 10 });
    const added = await api("POST", "/api/cart/add/", { token: alice.access, body: { product_id: product, quantity: 2 } });
    expect(added.status).toBe(200);
    const itemId = added.body.items[0].id;
    for (const [method, body] of [["PATCH", { quantity: 1 }], ["DELETE"]] as const) {
      const res = await api(method, `/api/cart/items/${itemId}/`, { token: bob.access, body });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: "Cart item not found" });
    }
    expect((await api("GET", "/api/cart/", { token: bob.access })).body.items).toEqual([]);
    expect((await api("GET", "/api/cart/", { token: alice.access })).body.items[0].quantity).toBe(2);
  });

  it("payments", async () => {
    const product = await insertProduct({ stock: 10 });
    await fillCart(alice.id, [[product, 1]]);
    const order = (await api("POST", "/api/orders/create_order/", { token: alice.access, body: { shipping_address: "A" } })).body;
    const initiate = await api("POST", "/api/payments/initiate/", { token: bob.access, body: { order_id: order.id } });
    expect(initiate.status).toBe(400);
    expect(initiate.body).toEqual({ order_id: ["Order not found"] });
    const verify = await api("POST", "/api/payments/verify/", {
      token: bob.access,
      body: { order_id: order.id, razorpay_order_id: "order_x", razorpay_payment_id: "pay_x", razorpay_signature: "0".repeat(64) },
    });
    expect([400, 404]).toContain(verify.status);
    expect((await api("GET", `/api/orders/${order.id}/`, { token: alice.access })).body.payment_status).toBe("pending");
  });
});

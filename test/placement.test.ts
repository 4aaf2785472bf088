/**
 * Where each write runs (issue 24, src/placement/): the edge forwards the writes that make several calls to the D1
 * primary or the objects to the data Worker in one call. Here the data Worker is this same Worker through a service
 * binding (vitest.config.ts), so both sides run in workerd against the same storage. Each route is measured both ways
 * with the cost meter: everything at the edge (no `DATA` binding, the code before this issue) and as deployed.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { type CostReport, LATENCY_MS } from "../src/lib/cost/meter";
import { meterRequest } from "../src/lib/cost/report";
import { HOP_HEADER, hopToken, runsOnDataSide } from "../src/placement/hop";
import { objectLocation } from "../src/placement/location";
import { fillCart, insertCategory, insertProduct } from "./fixtures";
import { fakeRazorpay } from "./razorpay-stub";
import { api, checkContract, createAdmin, PASSWORD, registerUser, type TestUser, unique } from "./helpers";

const atEdge = { ...env, DATA: undefined } as Env;

interface Call {
  method: string;
  path: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

async function measure(bindings: Env, call: Call): Promise<{ status: number; body: any; cost: CostReport }> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.token) headers.Authorization = `Bearer ${call.token}`;
  if (call.body !== undefined) headers["Content-Type"] = "application/json";
  const ctx = createExecutionContext();
  const request = new Request(`https://shop.test${call.path}`, { method: call.method, headers, body: call.body === undefined ? undefined : JSON.stringify(call.body) });
  const { response, cost } = await meterRequest(worker.fetch, request, bindings, ctx);
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: text ? JSON.parse(text) : null, cost };
}

/** Through the Worker's fetch entry (where the hop is), with `bindings`; checked against the OpenAPI document. */
async function send(bindings: Env, call: Call & { expectServerError?: boolean }) {
  const headers: Record<string, string> = { ...call.headers };
  if (call.token) headers.Authorization = `Bearer ${call.token}`;
  if (call.body !== undefined) headers["Content-Type"] = "application/json";
  const ctx = createExecutionContext();
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  const res = await worker.fetch(new Request(`https://shop.test${call.path}`, { method: call.method, headers, body }), bindings, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  if (!(call.expectServerError && res.status === 500)) await checkContract(call.method, call.path, { status: res.status, headers: res.headers, text }, call.body);
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

const address = { shipping_address: "7 Placement Road, Mumbai 400001" };

afterEach(() => {
  vi.restoreAllMocks();
});

/** A signed-in shopper with `lines` products in the cart. */
async function shopperWithCart(lines = 1): Promise<TestUser> {
  const user = await registerUser("place");
  const cart: Array<[number, number]> = [];
  for (let i = 0; i < lines; i++) cart.push([await insertProduct({ stock: 50 }), 1]);
  await fillCart(user.id, cart);
  return user;
}

async function placedOrder(): Promise<{ user: TestUser; order: any }> {
  const user = await shopperWithCart();
  const res = await api("POST", "/api/orders/create_order/", { token: user.access, body: address });
  expect(res.status).toBe(201);
  return { user, order: res.body };
}

/** Each write, set up afresh for each measurement. */
const writes: Record<string, () => Promise<Call>> = {
  "create_order, 5 lines": async () => ({ method: "POST", path: "/api/orders/create_order/", token: (await shopperWithCart(5)).access, body: address }),
  "cancel an order": async () => {
    const { user, order } = await placedOrder();
    return { method: "POST", path: `/api/orders/${order.id}/cancel/`, token: user.access };
  },
  "add to a signed-in cart": async () => ({ method: "POST", path: "/api/cart/add/", token: (await registerUser("place")).access, body: { product_id: await insertProduct({ stock: 9 }), quantity: 1 } }),
  "add to an anonymous cart": async () => ({ method: "POST", path: "/api/cart/add/", body: { product_id: await insertProduct({ stock: 9 }), quantity: 1 } }),
  "change a cart line": async () => {
    const user = await shopperWithCart();
    const cart = await api("GET", "/api/cart/", { token: user.access });
    return { method: "PATCH", path: `/api/cart/items/${cart.body.items[0].id}/`, token: user.access, body: { quantity: 2 } };
  },
  "remove a cart line": async () => {
    const user = await shopperWithCart();
    const cart = await api("GET", "/api/cart/", { token: user.access });
    return { method: "DELETE", path: `/api/cart/items/${cart.body.items[0].id}/`, token: user.access };
  },
  "clear the cart": async () => ({ method: "DELETE", path: "/api/cart/clear/", token: (await shopperWithCart(3)).access }),
  register: async () => ({ method: "POST", path: "/api/auth/register/", body: { username: unique("reg"), email: `${unique("reg")}@example.com`, password: PASSWORD, password2: PASSWORD } }),
  "login with an anonymous cart to merge": async () => {
    const user = await registerUser("place");
    const added = await api("POST", "/api/cart/add/", { body: { product_id: await insertProduct({ stock: 9 }), quantity: 1 } });
    return { method: "POST", path: "/api/auth/login/", body: { username: user.username, password: PASSWORD }, headers: { "X-Cart-Id": added.headers.get("X-Cart-Id")! } };
  },
  "change password": async () => {
    const user = await registerUser("place");
    return { method: "POST", path: "/api/auth/change-password/", token: user.access, body: { old_password: PASSWORD, new_password: `${PASSWORD}2` } };
  },
  logout: async () => {
    const user = await registerUser("place");
    return { method: "POST", path: "/api/auth/logout/", token: user.access, body: { refresh: user.refresh } };
  },
  "profile edit": async () => ({ method: "PATCH", path: "/api/auth/profile/", token: (await registerUser("place")).access, body: { first_name: "Asha" } }),
  "add an address": async () => ({
    method: "POST",
    path: "/api/auth/addresses/",
    token: (await registerUser("place")).access,
    body: { street_address: "7 Placement Road", city: "Mumbai", state: "MH", postal_code: "400001" },
  }),
  "admin: add a product": async () => ({
    method: "POST",
    path: "/api/products/",
    token: (await createAdmin()).access,
    body: { name: unique("Placed Lamp "), description: "A lamp", price: "499.00", stock: 5, category: await insertCategory() },
  }),
  "payment initiate": async () => {
    fakeRazorpay();
    const { user, order } = await placedOrder();
    return { method: "POST", path: "/api/payments/initiate/", token: user.access, body: { order_id: order.id } };
  },
  "payment verify": async () => {
    const razorpay = fakeRazorpay();
    const { user, order } = await placedOrder();
    const initiated = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.id } });
    const paid = await razorpay.pay(initiated.body.razorpay_order_id, initiated.body.amount);
    return { method: "POST", path: "/api/payments/verify/", token: user.access, body: { order_id: order.id, razorpay_order_id: initiated.body.razorpay_order_id, ...paid } };
  },
};

describe("the writes that run next to the data", () => {
  for (const [name, setup] of Object.entries(writes)) {
    it(`${name}: one long hop, never slower than at the edge`, async () => {
      const before = await measure(atEdge, await setup());
      const call = await setup();
      expect(runsOnDataSide(new Request(`https://shop.test${call.path}`, { method: call.method }))).toBe(true);
      const after = await measure(env, call);
      expect(after.status, JSON.stringify(after.body)).toBe(before.status);
      expect(after.status, JSON.stringify(after.body)).toBeLessThan(300);
      // The hop is the one long step: everything else runs next to the data.
      expect(after.cost.long, JSON.stringify(after.cost)).toBe(1);
      expect(after.cost.model_ms, `before ${JSON.stringify(before.cost)}\nafter ${JSON.stringify(after.cost)}`).toBeLessThanOrEqual(before.cost.model_ms);
      console.log(`${name}: ${before.cost.model_ms} ms (${before.cost.rt} steps) -> ${after.cost.model_ms} ms (${after.cost.long} long, ${after.cost.short} short)`);
    });
  }
});

describe("the writes that stay at the edge", () => {
  it("token refresh makes one call to the primary: a hop could not beat it, so it is not forwarded", async () => {
    const call: Call = { method: "POST", path: "/api/auth/token/refresh/", body: { refresh: (await registerUser("place")).refresh } };
    expect(runsOnDataSide(new Request(`https://shop.test${call.path}`, { method: call.method }))).toBe(false);
    const here = await measure(env, call);
    expect(here.status, JSON.stringify(here.body)).toBe(200);
    expect(here.cost.rt, JSON.stringify(here.cost)).toBeLessThanOrEqual(1);
    expect(here.cost.model_ms).toBeLessThanOrEqual(LATENCY_MS.client + LATENCY_MS.long);
  });

  it("every other write in the OpenAPI document runs next to the data, every read at the edge", async () => {
    const doc = (await send(env, { method: "GET", path: "/openapi.json" })).body;
    let writes = 0;
    for (const [path, operations] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(operations)) {
        const request = new Request(`https://shop.test${path.replace(/\{[^}]+\}/g, "1")}`, { method: method.toUpperCase() });
        const write = !["get", "head", "options"].includes(method);
        if (write) writes++;
        expect(runsOnDataSide(request), `${method} ${path}`).toBe(write && path !== "/api/auth/token/refresh/");
      }
    }
    expect(writes).toBeGreaterThan(15);
  });
});

describe("the hop changes nothing a client sees", () => {
  it("answers errors across the hop with the same status and body as at the edge", async () => {
    const user = await registerUser("place");
    const cases: Call[] = [
      { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address }, // empty cart
      { method: "POST", path: "/api/orders/create_order/", body: address }, // no token
      { method: "POST", path: "/api/orders/create_order/", token: user.access, body: {} }, // a field missing
      { method: "POST", path: "/api/cart/add/", token: user.access, body: { product_id: 999999, quantity: 1 } }, // no such product
      { method: "POST", path: "/api/auth/login/", body: { username: user.username, password: "wrong" } },
      { method: "POST", path: "/api/payments/initiate/", token: user.access, body: { order_id: 999999 } },
    ];
    for (const call of cases) {
      const edge = await send(atEdge, call);
      const hop = await send(env, call);
      expect(hop.status, call.path).toBe(edge.status);
      expect(hop.status).toBeGreaterThanOrEqual(400);
      expect(hop.body, call.path).toEqual(edge.body);
      expect(hop.headers.get("Content-Type")).toBe(edge.headers.get("Content-Type"));
    }
  });

  it("ignores a hop header a client made up: the write still crosses, as any other", async () => {
    const user = await shopperWithCart(1);
    const forged = await measure(env, { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address, headers: { [HOP_HEADER]: "1" } });
    expect(forged.status).toBe(201);
    expect(forged.cost.long).toBe(1);
    expect(forged.cost.short).toBeGreaterThan(0);
  });

  it("serves the same OpenAPI document", async () => {
    const edge = await send(atEdge, { method: "GET", path: "/openapi.json" });
    const hop = await send(env, { method: "GET", path: "/openapi.json" });
    expect(hop.body).toEqual(edge.body);
    expect(JSON.stringify(hop.body)).not.toContain(HOP_HEADER);
  });
});

/** The data side, reached through a binding whose answer is lost after the data side has done the work. */
function losingHop(): { env: Env; calls: () => number } {
  let calls = 0;
  const data = {
    async fetch(request: Request) {
      calls++;
      const response = await (env as { DATA?: Fetcher }).DATA!.fetch(request);
      await response.text();
      throw new Error("Network connection lost.");
    },
  } as unknown as Fetcher;
  return { env: { ...env, DATA: data } as Env, calls: () => calls };
}

const ordersOf = async (userId: number) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM orders WHERE user_id = ?").bind(userId).first<{ n: number }>())!.n;

describe("a lost or retried hop never makes a second order or payment", () => {
  it("create_order whose answer was lost on the way back: the client's retry with its Idempotency-Key replays the order", async () => {
    const user = await shopperWithCart(3);
    const lost = losingHop();
    const headers = { "Idempotency-Key": unique("hop-") };
    const first = await send(lost.env, { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address, headers, expectServerError: true });
    expect(first.status).toBe(500);
    expect(first.body).toMatchObject({ detail: "Internal server error." });
    expect(lost.calls()).toBe(1);
    expect(await ordersOf(user.id)).toBe(1); // the data side did place it
    const retry = await send(env, { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address, headers });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await ordersOf(user.id)).toBe(1);
  });

  it("a hop that failed answers the app's own 500, with the headers of every other answer", async () => {
    const user = await shopperWithCart(1);
    const origin = { Origin: "https://shop.example" };
    const lost = losingHop();
    const failed = await send(lost.env, { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address, headers: origin, expectServerError: true });
    const ordinary = await send(env, { method: "POST", path: "/api/orders/create_order/", body: address, headers: origin }); // a 401 across the hop
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ detail: "Internal server error.", request_id: failed.headers.get("X-Request-Id") });
    const security = ["X-Content-Type-Options", "X-Frame-Options", "Strict-Transport-Security", "Referrer-Policy", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Cache-Control"];
    for (const name of security) expect([name, failed.headers.get(name)]).toEqual([name, ordinary.headers.get(name)]);
    expect(failed.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(failed.headers.get("Cache-Control")).toBe("no-store");
  });

  it("create_order sent twice across the hop at once with one key: one order, both answers name it", async () => {
    const user = await shopperWithCart(2);
    const headers = { "Idempotency-Key": unique("hop-") };
    const [a, b] = await Promise.all([0, 1].map(() => send(env, { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address, headers })));
    const placed = [a, b].filter((r) => r.status === 201);
    expect(placed.length).toBeGreaterThanOrEqual(1);
    for (const r of [a, b]) expect([201, 409]).toContain(r.status);
    expect(new Set(placed.map((r) => r.body.id)).size).toBe(1);
    expect(await ordersOf(user.id)).toBe(1);
  });

  it("create_order without a key, retried after a lost answer: the cart lease and the emptied cart refuse a second order", async () => {
    const user = await shopperWithCart(2);
    const lost = losingHop();
    const first = await send(lost.env, { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address, expectServerError: true });
    expect(first.status).toBe(500);
    const retry = await send(env, { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address });
    expect(retry.status).toBe(400);
    expect(await ordersOf(user.id)).toBe(1);
  });

  it("payment initiate whose answer was lost: the retry with its key gets the same Razorpay order, created once", async () => {
    const razorpay = fakeRazorpay();
    const { user, order } = await placedOrder();
    const lost = losingHop();
    const headers = { "Idempotency-Key": unique("pay-") };
    const first = await send(lost.env, { method: "POST", path: "/api/payments/initiate/", token: user.access, body: { order_id: order.id }, headers, expectServerError: true });
    expect(first.status).toBe(500);
    expect(razorpay.ordersCreated()).toBe(1);
    const retry = await send(env, { method: "POST", path: "/api/payments/initiate/", token: user.access, body: { order_id: order.id }, headers });
    expect(retry.status).toBe(200);
    expect(razorpay.ordersCreated()).toBe(1);
    const payments = await env.DB.prepare("SELECT count(*) AS n FROM payments WHERE order_id = ?").bind(order.id).first<{ n: number }>();
    expect(payments!.n).toBe(1);
  });
});

describe("objects are created in the data region", () => {
  it("every stub asks for the configured location hint, from either side", async () => {
    const asked: unknown[] = [];
    const inventory = new Proxy(env.INVENTORY, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "getByName") return (name: string, options?: unknown) => (asked.push(options), value.call(target, name, options));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const user = await shopperWithCart(2);
    const res = await send({ ...atEdge, INVENTORY: inventory } as Env, { method: "POST", path: "/api/orders/create_order/", token: user.access, body: address });
    expect(res.status).toBe(201);
    expect(asked.length).toBeGreaterThan(0);
    for (const options of asked) expect(options).toEqual({ locationHint: "apac" });
  });

  it("refuses a misspelt hint instead of creating objects wherever the first request lands", () => {
    expect(objectLocation({ ...env, OBJECTS_LOCATION_HINT: "apac" } as Env)).toEqual({ locationHint: "apac" });
    expect(objectLocation({ ...env, OBJECTS_LOCATION_HINT: "" } as Env)).toBeUndefined();
    expect(() => objectLocation({ ...env, OBJECTS_LOCATION_HINT: "asia" } as Env)).toThrow(/not a Durable Object location hint/);
  });
});

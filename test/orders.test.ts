import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { db } from "../src/db/client";
import { inventoryOf, setStock } from "../src/inventory/inventory.client";
import type { AuthUser } from "../src/env";
import { createOrder } from "../src/features/orders/checkout.service";
import { Faults, faultyEnv, type FaultPlan } from "./crash-harness";
import { api, createAdmin, registerUser, type TestUser } from "./helpers";
import { cartLineCount, expectInvariant, fillCart, insertProduct, soldInD1, stockOf } from "./fixtures";

const address = { shipping_address: "123 Test St, City, State, 12345, Country" };
const checkout = (user: TestUser, body: object = address, headers: Record<string, string> = {}) =>
  api("POST", "/api/orders/create_order/", { token: user.access, body, headers });
const asAuthUser = (u: TestUser): AuthUser => ({ id: u.id, username: u.username, email: u.email, isStaff: false, sessionId: "test" });

describe("an admin's order list before any order exists (first in this file: the shop is empty)", () => {
  it("answers a page past the end with 404 Invalid page., not a 500", async () => {
    const admin = await createAdmin();
    expect(await api("GET", "/api/orders/?page=2", { token: admin.access })).toMatchObject({ status: 404, body: { detail: "Invalid page." } });
    expect(await api("GET", "/api/orders/", { token: admin.access })).toMatchObject({ status: 200, body: { count: 0, results: [] } });
  });
});

describe("create_order (the original's checks)", () => {
  it("turns a cart of 2 x 100.00 into an order of 200.00 and takes the stock 10 -> 8", async () => {
    const user = await registerUser();
    const product = await insertProduct({ pricePaise: 10000, stock: 10 });
    await fillCart(user.id, [[product, 2]]);
    const res = await checkout(user);
    expect(res.status).toBe(201);
    expect(res.body.order_number).toMatch(/^ORD-[0-9A-F]{12}$/);
    expect(res.body).toMatchObject({ total_amount: "200.00", status: "pending", payment_status: "pending", user_email: user.email });
    expect(res.body.shipping_address).toBe(address.shipping_address);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ quantity: 2, price_at_purchase: "100.00", subtotal: "200.00" });
    expect(res.body.items[0].product).toMatchObject({ id: product, price: "100.00" });
    expect((await stockOf(product)).available).toBe(8);
    // The D1 projection is written behind, within PROJECTION_FLUSH_MS (1 s) of the change.
    await vi.waitFor(
      async () => {
        const projected = await env.DB.prepare("SELECT stock FROM products WHERE id = ?").bind(product).first<{ stock: number }>();
        expect(projected?.stock).toBe(8);
      },
      { timeout: 3_000, interval: 100 },
    );
    expect(await cartLineCount(user.id)).toBe(0);
    await expectInvariant(product);
  });

  it("refuses an empty cart", async () => {
    const user = await registerUser();
    await api("GET", "/api/cart/", { token: user.access });
    const res = await checkout(user);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Cart is empty" });
  });

  it("lists the user's orders and cancel restores the stock 8 -> 10", async () => {
    const user = await registerUser();
    const product = await insertProduct({ pricePaise: 10000, stock: 10 });
    await fillCart(user.id, [[product, 2]]);
    const order = (await checkout(user)).body;
    const list = await api("GET", "/api/orders/", { token: user.access });
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(1);
    expect(list.body.results[0]).toEqual({
      id: order.id,
      order_number: order.order_number,
      total_amount: "200.00",
      status: "pending",
      payment_status: "pending",
      items_count: 1,
      created_at: order.created_at,
    });
    const cancelled = await api("POST", `/api/orders/${order.id}/cancel/`, { token: user.access });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    expect((await stockOf(product)).available).toBe(10);
    await expectInvariant(product);
  });
});

describe("create_order rules", () => {
  it("needs an address, and only the caller's own saved address", async () => {
    const user = await registerUser();
    const other = await registerUser();
    const product = await insertProduct();
    await fillCart(user.id, [[product, 1]]);
    const none = await checkout(user, {});
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ non_field_errors: ["Either shipping_address_id or shipping_address must be provided"] });
    const theirs = await api("POST", "/api/auth/addresses/", {
      token: other.access,
      body: { street_address: "9 Elsewhere", city: "Delhi", state: "DL", postal_code: "110001" },
    });
    const foreign = await checkout(user, { shipping_address_id: theirs.body.id });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toEqual({ shipping_address_id: ["Address not found"] });
    const mine = await api("POST", "/api/auth/addresses/", {
      token: user.access,
      body: { street_address: "1 MG Road", city: "Bengaluru", state: "KA", postal_code: "560001" },
    });
    const ok = await checkout(user, { shipping_address_id: mine.body.id });
    expect(ok.status).toBe(201);
    expect(ok.body.shipping_address).toBe("1 MG Road, Bengaluru, KA, 560001, India");
  });

  it("reports insufficient stock with the contract's message and changes nothing", async () => {
    const user = await registerUser();
    const plenty = await insertProduct({ stock: 50 });
    const scarce = await insertProduct({ name: "Scarce Widget", stock: 3 });
    await fillCart(user.id, [[plenty, 2], [scarce, 5]]);
    const res = await checkout(user);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Insufficient stock for Scarce Widget. Available: 3, Requested: 5" });
    expect((await stockOf(plenty)).available).toBe(50);
    expect((await stockOf(scarce)).available).toBe(3);
    expect(await cartLineCount(user.id)).toBe(2);
    await expectInvariant(plenty);
  });

  it("catches stock that ran out between cart and checkout", async () => {
    const user = await registerUser();
    const product = await insertProduct({ name: "Flash Deal", stock: 5 });
    await fillCart(user.id, [[product, 4]]);
    await setStock(env, product, 2);
    const res = await checkout(user);
    expect(res.body).toEqual({ error: "Insufficient stock for Flash Deal. Available: 2, Requested: 4" });
  });

  it("snapshots prices: a later price change does not alter the order", async () => {
    const user = await registerUser();
    const product = await insertProduct({ pricePaise: 4999, stock: 5 });
    await fillCart(user.id, [[product, 3]]);
    const order = (await checkout(user)).body;
    await env.DB.prepare("UPDATE products SET price_paise = 99900 WHERE id = ?").bind(product).run();
    const again = await api("GET", `/api/orders/${order.id}/`, { token: user.access });
    expect(again.body.total_amount).toBe("149.97");
    expect(again.body.items[0]).toMatchObject({ price_at_purchase: "49.99", subtotal: "149.97" });
    expect(again.body.items[0].product.price).toBe("999.00");
  });

  it("refuses a product that was deactivated while in the cart", async () => {
    const user = await registerUser();
    const product = await insertProduct({ name: "Retired Thing", isActive: false });
    await fillCart(user.id, [[product, 1]]);
    const res = await checkout(user);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Retired Thing is no longer available" });
  });

  it("validates its input and needs a token", async () => {
    const user = await registerUser();
    expect((await api("POST", "/api/orders/create_order/", { body: address })).status).toBe(401);
    const blank = await checkout(user, { shipping_address: "" });
    expect(blank.body).toEqual({ shipping_address: ["This field may not be blank."] });
    const typed = await checkout(user, { shipping_address_id: "abc" });
    expect(typed.status).toBe(400);
    expect(Object.keys(typed.body)).toEqual(["shipping_address_id"]);
    const longKey = await checkout(user, address, { "Idempotency-Key": "k".repeat(256) });
    expect(longKey.status).toBe(400);
    expect(Object.keys(longKey.body)).toEqual(["idempotency-key"]);
  });
});

describe("reading orders", () => {
  it("hides other users' orders and shows every order to an admin", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const admin = await createAdmin();
    const product = await insertProduct({ stock: 20 });
    await fillCart(a.id, [[product, 1]]);
    const order = (await checkout(a)).body;
    for (const [method, path] of [["GET", `/api/orders/${order.id}/`], ["POST", `/api/orders/${order.id}/cancel/`]] as const) {
      const res = await api(method, path, { token: b.access });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ detail: "Not found." });
    }
    expect((await api("GET", "/api/orders/", { token: b.access })).body.count).toBe(0);
    expect((await api("GET", `/api/orders/${order.id}/`, { token: admin.access })).status).toBe(200);
    const all = await api("GET", "/api/orders/", { token: admin.access });
    expect(all.body.results.map((o: any) => o.id)).toContain(order.id);
    expect((await api("GET", "/api/orders/abc/", { token: a.access })).status).toBe(404);
    expect((await api("GET", "/api/orders/999999/", { token: a.access })).status).toBe(404);
    expect((await api("GET", "/api/orders/")).status).toBe(401);
  });

  it("paginates newest first", async () => {
    const user = await registerUser();
    const product = await insertProduct({ stock: 100 });
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      await fillCart(user.id, [[product, 1]]);
      ids.push((await checkout(user)).body.id);
    }
    const first = await api("GET", "/api/orders/?page_size=2", { token: user.access });
    expect(first.body.count).toBe(3);
    expect(first.body.results.map((o: any) => o.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.next).toBe("https://shop.test/api/orders/?page=2&page_size=2");
    const second = await api("GET", "/api/orders/?page=2&page_size=2", { token: user.access });
    expect(second.body.results.map((o: any) => o.id)).toEqual([ids[0]]);
    expect(second.body.previous).toBe("https://shop.test/api/orders/?page_size=2");
    const past = await api("GET", "/api/orders/?page=3&page_size=2", { token: user.access });
    expect(past.status).toBe(404);
    expect(past.body).toEqual({ detail: "Invalid page." });
  });
});

describe("cancel and update_status", () => {
  async function placedOrder(stock = 10, qty = 2) {
    const user = await registerUser();
    const product = await insertProduct({ stock });
    await fillCart(user.id, [[product, qty]]);
    const order = (await checkout(user)).body;
    return { user, product, order };
  }

  it("only cancels pending or failed orders", async () => {
    const admin = await createAdmin();
    const { user, order, product } = await placedOrder();
    // goods ship only once paid (here cash on delivery, marked paid by the admin)
    await api("PATCH", `/api/orders/${order.id}/update_status/`, { token: admin.access, body: { status: "paid" } });
    expect((await api("PATCH", `/api/orders/${order.id}/update_status/`, { token: admin.access, body: { status: "shipped" } })).status).toBe(200);
    const res = await api("POST", `/api/orders/${order.id}/cancel/`, { token: user.access });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Only pending or failed orders can be cancelled" });
    expect((await stockOf(product)).available).toBe(8);
  });

  it("restores stock exactly once when cancels race", async () => {
    const { user, order, product } = await placedOrder(10, 3);
    const results = await Promise.all(Array.from({ length: 8 }, () => api("POST", `/api/orders/${order.id}/cancel/`, { token: user.access })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(7);
    expect((await stockOf(product)).available).toBe(10);
    await expectInvariant(product);
  });

  it("finishes the restock of a cancel that died after changing the status", async () => {
    const admin = await createAdmin();
    const { user, order, product } = await placedOrder(10, 3);
    // the status flipped, then the Worker died before restocking
    await env.DB.prepare("UPDATE orders SET status = 'cancelled' WHERE id = ?").bind(order.id).run();
    expect((await stockOf(product)).available).toBe(7);
    const retry = await api("POST", `/api/orders/${order.id}/cancel/`, { token: user.access });
    expect(retry.status).toBe(400);
    expect((await stockOf(product)).available).toBe(10);
    expect((await api("PATCH", `/api/orders/${order.id}/update_status/`, { token: admin.access, body: { status: "cancelled" } })).status).toBe(200);
    expect((await stockOf(product)).available).toBe(10);
    await expectInvariant(product);
  });

  it("validates the status with the contract's messages and is admin only", async () => {
    const admin = await createAdmin();
    const { user, order } = await placedOrder();
    const path = `/api/orders/${order.id}/update_status/`;
    expect((await api("PATCH", path, { body: { status: "paid" } })).status).toBe(401);
    const notAdmin = await api("PATCH", path, { token: user.access, body: { status: "paid" } });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body).toEqual({ detail: "You do not have permission to perform this action." });
    expect((await api("PATCH", path, { token: admin.access, body: {} })).body).toEqual({ error: "Status is required" });
    expect((await api("PATCH", path, { token: admin.access, body: { status: "lost" } })).body).toEqual({
      error: "Invalid status. Valid options: ['pending', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'payment_failed']",
    });
    expect((await api("PATCH", "/api/orders/999999/update_status/", { token: admin.access, body: { status: "paid" } })).status).toBe(404);
  });

  it("moves orders forward only, and a move to cancelled restores stock once", async () => {
    const admin = await createAdmin();
    const { order, product } = await placedOrder(10, 4);
    const path = `/api/orders/${order.id}/update_status/`;
    expect((await api("PATCH", path, { token: admin.access, body: { status: "processing" } })).status).toBe(400); // not paid yet
    expect((await api("PATCH", path, { token: admin.access, body: { status: "paid" } })).status).toBe(200);
    const paid = await api("PATCH", path, { token: admin.access, body: { status: "processing" } });
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe("processing");
    const back = await api("PATCH", path, { token: admin.access, body: { status: "pending" } });
    expect(back.status).toBe(400);
    expect(back.body).toEqual({ error: "Cannot change status from processing to pending" });
    const cancelled = await api("PATCH", path, { token: admin.access, body: { status: "cancelled" } });
    expect(cancelled.status).toBe(200);
    expect((await stockOf(product)).available).toBe(10);
    // the original let cancelled -> pending -> cancel restore stock twice
    expect((await api("PATCH", path, { token: admin.access, body: { status: "pending" } })).status).toBe(400);
    expect((await api("PATCH", path, { token: admin.access, body: { status: "cancelled" } })).status).toBe(200);
    expect((await stockOf(product)).available).toBe(10);
    await expectInvariant(product);
  });

  it("records the payment when an admin marks an order paid", async () => {
    const admin = await createAdmin();
    const { order } = await placedOrder();
    const res = await api("PATCH", `/api/orders/${order.id}/update_status/`, { token: admin.access, body: { status: "paid" } });
    expect(res.body).toMatchObject({ status: "paid", payment_status: "success" });
  });
});

describe("Idempotency-Key", () => {
  it("returns the first response for a retried checkout and creates one order", async () => {
    const user = await registerUser();
    const product = await insertProduct({ stock: 10 });
    await fillCart(user.id, [[product, 2]]);
    const key = { "Idempotency-Key": "checkout-1" };
    const first = await checkout(user, address, key);
    const again = await checkout(user, address, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await api("GET", "/api/orders/", { token: user.access })).body.count).toBe(1);
    expect((await stockOf(product)).available).toBe(8);
  });

  it("refuses the same key with a different cart or body", async () => {
    const user = await registerUser();
    const product = await insertProduct({ stock: 10 });
    await fillCart(user.id, [[product, 1]]);
    const key = { "Idempotency-Key": "checkout-2" };
    expect((await checkout(user, address, key)).status).toBe(201);
    await fillCart(user.id, [[product, 3]]);
    const otherCart = await checkout(user, address, key);
    expect(otherCart.status).toBe(422);
    const otherBody = await checkout(user, { shipping_address: "Somewhere else" }, key);
    expect(otherBody.status).toBe(422);
    expect(await cartLineCount(user.id)).toBe(1);
  });

  it("replays a refusal with its status, not as a success", async () => {
    const user = await registerUser();
    const key = { "Idempotency-Key": "empty-cart" };
    const first = await checkout(user, address, key);
    const again = await checkout(user, address, key);
    expect(first.status).toBe(400);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ error: "Cart is empty" });
  });

  it("keys belong to one user", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const product = await insertProduct({ stock: 10 });
    await fillCart(a.id, [[product, 1]]);
    await fillCart(b.id, [[product, 1]]);
    const key = { "Idempotency-Key": "shared-key" };
    const first = await checkout(a, address, key);
    const second = await checkout(b, address, key);
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it("creates one order when the same key is sent concurrently", async () => {
    const user = await registerUser();
    const product = await insertProduct({ stock: 10 });
    await fillCart(user.id, [[product, 1]]);
    const results = await Promise.all(Array.from({ length: 5 }, () => checkout(user, address, { "Idempotency-Key": "burst" })));
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const r of results) expect([201, 409]).toContain(r.status);
    expect((await api("GET", "/api/orders/", { token: user.access })).body.count).toBe(1);
    expect((await stockOf(product)).available).toBe(9);
  });
});

describe("concurrency: never oversold", () => {
  it("50 shoppers racing for 10 units: exactly 10 orders, stock 0", async () => {
    const product = await insertProduct({ name: "Hot Item", stock: 10 });
    const users = await Promise.all(Array.from({ length: 50 }, () => registerUser("buyer")));
    for (const u of users) await fillCart(u.id, [[product, 1]]);
    const results = await Promise.all(users.map((u) => checkout(u)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(40);
    for (const r of refused) expect(r.body.error).toMatch(/^Insufficient stock for Hot Item\. Available: 0, Requested: 1$/);
    const s = await expectInvariant(product);
    expect(s.available).toBe(0);
    expect(await soldInD1(product)).toBe(10);
  });

  it("multi-product orders racing in opposite orders neither deadlock nor oversell", async () => {
    const p1 = await insertProduct({ stock: 7 });
    const p2 = await insertProduct({ stock: 7 });
    const users = await Promise.all(Array.from({ length: 20 }, () => registerUser("multi")));
    for (const [i, u] of users.entries()) await fillCart(u.id, i % 2 ? [[p1, 1], [p2, 1]] : [[p2, 1], [p1, 1]]);
    const results = await Promise.all(users.map((u) => checkout(u)));
    const ok = results.filter((r) => r.status === 201).length;
    expect(ok).toBe(7);
    for (const p of [p1, p2]) expect((await expectInvariant(p)).available).toBe(0);
  });

  it("checkouts, cancels and admin stock changes interleaved keep the invariant", async () => {
    const product = await insertProduct({ stock: 30 });
    const users = await Promise.all(Array.from({ length: 12 }, () => registerUser("mix")));
    for (const u of users) await fillCart(u.id, [[product, 2]]);
    const orders = await Promise.all(users.slice(0, 6).map((u) => checkout(u)));
    await Promise.all([
      ...users.slice(6).map((u) => checkout(u)),
      ...orders.map((o, i) => api("POST", `/api/orders/${o.body.id}/cancel/`, { token: users[i].access })),
      setStock(env, product, 25),
    ]);
    await expectInvariant(product);
  });
});

/** Makes every hold of the product due now, then fires its alarm (what happens after a dead Worker's TTL). */
async function expireHoldsAndRunAlarm(productId: number) {
  const stub = inventoryOf(env, productId);
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE holds SET expires_at = 0");
  });
  await runDurableObjectAlarm(stub);
}

/** createOrder with its bindings wrapped so the planned fault happens (test/crash-harness.ts). */
function createOrderWith(plan: FaultPlan, user: TestUser) {
  const bindings = faultyEnv(new Faults(plan));
  return createOrder(bindings, db(bindings.DB), asAuthUser(user), address);
}
const orderBatch = (call: { label: string; sql: string[] }) => call.sql.some((q) => q.startsWith('insert into "orders"'));
const firstCommit = (call: { label: string }) => call.label.endsWith(".commit");
const firstReserve = (call: { label: string }) => call.label.endsWith(".reserve");

describe("failures mid-checkout leave stock, orders and carts consistent", () => {
  async function setup() {
    const user = await registerUser();
    const p1 = await insertProduct({ stock: 5 });
    const p2 = await insertProduct({ stock: 5 });
    await fillCart(user.id, [[p1, 2], [p2, 1]]);
    return { user, p1, p2 };
  }

  it("a failing D1 batch writes nothing and releases every reservation", async () => {
    const { user, p1, p2 } = await setup();
    await expect(createOrderWith({ at: orderBatch, mode: "fail" }, user)).rejects.toMatchObject({ status: 503 });
    expect((await api("GET", "/api/orders/", { token: user.access })).body.count).toBe(0);
    expect(await cartLineCount(user.id)).toBe(2);
    for (const p of [p1, p2]) expect((await expectInvariant(p)).available).toBe(5);
  });

  it("a batch that committed but reported an error keeps the order and sells its holds", async () => {
    const { user, p1, p2 } = await setup();
    const orderId = await createOrderWith({ at: orderBatch, mode: "lose" }, user);
    expect((await api("GET", `/api/orders/${orderId}/`, { token: user.access })).body.status).toBe("pending");
    expect((await expectInvariant(p1)).available).toBe(3);
    expect((await expectInvariant(p2)).available).toBe(4);
  });

  it("a reservation whose answer was lost is released with the others", async () => {
    const { user, p1, p2 } = await setup();
    await expect(createOrderWith({ at: firstReserve, mode: "lose" }, user)).rejects.toThrow(/Network connection lost/);
    for (const p of [p1, p2]) expect((await expectInvariant(p)).available).toBe(5);
    expect(await cartLineCount(user.id)).toBe(2);
  });

  it("a Worker that dies after reserving: the alarm releases the holds", async () => {
    const { user, p1, p2 } = await setup();
    // a dead Worker's answer is whatever it managed; only what it left in storage counts
    await createOrderWith({ at: orderBatch, mode: "before" }, user).catch(() => undefined);
    expect((await stockOf(p1)).reserved).toBe(2);
    for (const p of [p1, p2]) await expireHoldsAndRunAlarm(p);
    for (const p of [p1, p2]) expect((await expectInvariant(p)).available).toBe(5);
    expect((await api("GET", "/api/orders/", { token: user.access })).body.count).toBe(0);
  });

  it("a Worker that dies after recording the order: the alarm sells the holds", async () => {
    const { user, p1, p2 } = await setup();
    await createOrderWith({ at: firstCommit, mode: "before" }, user).catch(() => undefined);
    expect((await api("GET", "/api/orders/", { token: user.access })).body.count).toBe(1);
    for (const p of [p1, p2]) await expireHoldsAndRunAlarm(p);
    expect((await expectInvariant(p1)).available).toBe(3);
    expect((await expectInvariant(p2)).available).toBe(4);
  });

  it("a repeated reservation for the same order holds once", async () => {
    const p = await insertProduct({ stock: 5 });
    const stub = inventoryOf(env, p);
    const results = await Promise.all([1, 2, 3].map(() => stub.reserve(p, "ORD-SAMEKEY00001", 2)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await stockOf(p)).reserved).toBe(2);
    expect(await stub.commit("ORD-SAMEKEY00001")).toBe(true);
    expect(await stub.commit("ORD-SAMEKEY00001")).toBe(true);
    expect(await stub.release("ORD-SAMEKEY00001")).toBe(false);
    expect(await stub.restock("ORD-SAMEKEY00001")).toBe(true);
    expect(await stub.restock("ORD-SAMEKEY00001")).toBe(true);
    expect((await stockOf(p)).available).toBe(5);
  });
});

import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { db } from "../src/db/client";
import type { AuthUser } from "../src/env";
import { createOrder, MAX_UNPAID_ORDERS } from "../src/features/orders/checkout.service";
import { runSweep } from "../src/features/sweep/sweep.service";
import { api, createAdmin, registerUser, type TestUser } from "./helpers";
import { Faults, faultyEnv } from "./crash-harness";
import { cartLineCount, expectInvariant, fillCart, insertCategory, insertProduct, stockOf } from "./fixtures";

const address = { shipping_address: "1 Lifecycle Lane, Pune, MH 411001, India" };
const checkout = (user: TestUser) => api("POST", "/api/orders/create_order/", { token: user.access, body: address });
const asAuthUser = (u: TestUser): AuthUser => ({ id: u.id, username: u.username, email: u.email, isStaff: false, sessionId: "test" });

async function orderRow(id: number) {
  return env.DB.prepare("SELECT status, payment_status, restocked_at, hold_key FROM orders WHERE id = ?")
    .bind(id)
    .first<{ status: string; payment_status: string; restocked_at: string | null; hold_key: string }>();
}

/** Makes an order look `minutes` old, as if its shopper walked away from the payment page. */
const backdate = (orderId: number, minutes: number) =>
  env.DB.prepare("UPDATE orders SET created_at = ? WHERE id = ?")
    .bind(new Date(Date.now() - minutes * 60_000).toISOString(), orderId)
    .run();

/** A new shopper's order of `quantity` units of a new product holding `stock` units. */
async function placeOrder(stock: number, quantity: number) {
  const user = await registerUser();
  const product = await insertProduct({ stock });
  await fillCart(user.id, [[product, quantity]]);
  const placed = await checkout(user);
  expect(placed.status).toBe(201);
  return { user, product, order: placed.body };
}

const projectedStock = async (productId: number) =>
  (await env.DB.prepare("SELECT stock FROM products WHERE id = ?").bind(productId).first<{ stock: number }>())!.stock;

describe("one cart, one order", () => {
  it("8 simultaneous checkouts of one cart make exactly one order and take the stock once (5 rounds)", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await registerUser("doubleclick");
      const product = await insertProduct({ stock: 20 });
      await fillCart(user.id, [[product, 2]]);
      const answers = await Promise.all(Array.from({ length: 8 }, () => checkout(user)));
      const created = answers.filter((a) => a.status === 201);
      expect(created).toHaveLength(1);
      for (const other of answers.filter((a) => a.status !== 201)) {
        expect([400, 409]).toContain(other.status);
        if (other.status === 400) expect(other.body).toEqual({ error: "Cart is empty" });
        else expect(other.body).toEqual({ error: "A checkout of this cart is already in progress" });
      }
      // Losing attempts hold nothing, right after the last answer: no hold waits for an alarm.
      const stock = await stockOf(product);
      expect(stock).toMatchObject({ available: 18, reserved: 0, sold: 2 });
      const orders = await api("GET", "/api/orders/", { token: user.access });
      expect(orders.body.count).toBe(1);
      expect(await cartLineCount(user.id)).toBe(0);
      await expectInvariant(product);
    }
  });

  it("a second checkout after the first finished finds the cart empty", async () => {
    const user = await registerUser();
    const product = await insertProduct({ stock: 5 });
    await fillCart(user.id, [[product, 1]]);
    expect((await checkout(user)).status).toBe(201);
    expect(await checkout(user)).toMatchObject({ status: 400, body: { error: "Cart is empty" } });
    await expectInvariant(product);
  });

  it("reserves a 20-line cart and refuses it whole when one line is short, holding nothing", async () => {
    const user = await registerUser();
    const category = await insertCategory();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => insertProduct({ categoryId: category, stock: i === 13 ? 1 : 10 })));
    await fillCart(user.id, ids.map((id) => [id, 2] as [number, number]));
    const refused = await checkout(user);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/^Insufficient stock for .+\. Available: 1, Requested: 2$/);
    for (const id of ids) expect(await stockOf(id)).toMatchObject({ reserved: 0, sold: 0 });
    expect(await cartLineCount(user.id)).toBe(20);

    await fillCart(user.id, [[ids[13], 1]]);
    const placed = await checkout(user);
    expect(placed.status).toBe(201);
    expect(placed.body.items).toHaveLength(20);
    for (const id of ids) await expectInvariant(id);
  });

  it("an order-number collision retries with a new number and never touches the other user's order", async () => {
    const first = await registerUser();
    const second = await registerUser();
    const product = await insertProduct({ stock: 10 });
    await fillCart(first.id, [[product, 1]]);
    const taken = (await checkout(first)).body;
    await fillCart(second.id, [[product, 3]]);

    // Meanwhile, another order takes the very number this checkout drew (read from its batch as it goes to D1).
    let collided = false;
    const bindings = faultyEnv(
      new Faults({
        meanwhile: async (call) => {
          if (collided || !call.sql[0]?.startsWith('insert into "orders"')) return;
          collided = true;
          const drawn = call.params[0].find((v) => typeof v === "string" && v.startsWith("ORD-"));
          await env.DB.prepare("UPDATE orders SET order_number = ? WHERE id = ?").bind(drawn, taken.id).run();
          taken.order_number = drawn;
        },
      }),
    );
    const orderId = await createOrder(bindings, db(bindings.DB), asAuthUser(second), address);
    expect(collided).toBe(true);
    const mine = await api("GET", `/api/orders/${orderId}/`, { token: second.access });
    expect(mine.body.order_number).not.toBe(taken.order_number);
    expect(mine.body.items[0].quantity).toBe(3);
    const theirs = await api("GET", `/api/orders/${taken.id}/`, { token: first.access });
    expect(theirs.body).toMatchObject({ order_number: taken.order_number, status: "pending", total_amount: taken.total_amount });
    expect(theirs.body.items.map((i: { quantity: number }) => i.quantity)).toEqual([1]);
    expect(await stockOf(product)).toMatchObject({ available: 6, reserved: 0, sold: 4 });
    await expectInvariant(product);
  });

  it("a checkout that outlived its cart lease writes nothing once another checkout took the cart", async () => {
    const user = await registerUser();
    const product = await insertProduct({ stock: 10 });
    await fillCart(user.id, [[product, 2]]);
    let second: Awaited<ReturnType<typeof checkout>> | undefined;
    const bindings = faultyEnv(
      new Faults({
        meanwhile: async (call) => {
          if (second || !call.sql[0]?.startsWith('insert into "orders"')) return;
          // the slow checkout's lease runs out, and the shopper's next tap takes the cart and places the order
          await env.DB.prepare("UPDATE carts SET checkout_expires_at = 0 WHERE user_id = ?").bind(user.id).run();
          second = await checkout(user);
        },
      }),
    );
    const slow = createOrder(bindings, db(bindings.DB), asAuthUser(user), address);
    await expect(slow).rejects.toMatchObject({ status: 409 });
    expect(second?.status).toBe(201);
    expect((await api("GET", "/api/orders/", { token: user.access })).body.count).toBe(1);
    expect(await stockOf(product)).toMatchObject({ available: 8, reserved: 0, sold: 2 });
    await expectInvariant(product);
  });

  it("a user cart holds at most 100 different products", async () => {
    const user = await registerUser();
    const category = await insertCategory();
    const ids = await Promise.all(Array.from({ length: 101 }, () => insertProduct({ categoryId: category })));
    await fillCart(user.id, ids.slice(0, 100).map((id) => [id, 1] as [number, number]));
    const refused = await api("POST", "/api/cart/add/", { token: user.access, body: { product_id: ids[100], quantity: 1 } });
    expect(refused).toMatchObject({ status: 400, body: { product_id: ["A cart can hold at most 100 different products"] } });
    expect(await cartLineCount(user.id)).toBe(100);
    const more = await api("POST", "/api/cart/add/", { token: user.access, body: { product_id: ids[0], quantity: 1 } });
    expect(more.status).toBe(200);
  });
});

describe("unpaid orders", () => {
  it(`a user may hold at most ${MAX_UNPAID_ORDERS} unpaid orders; the next checkout keeps cart and stock`, async () => {
    const user = await registerUser();
    const product = await insertProduct({ stock: 50 });
    const orders: number[] = [];
    for (let i = 0; i < MAX_UNPAID_ORDERS; i++) {
      await fillCart(user.id, [[product, 1]]);
      orders.push((await checkout(user)).body.id);
    }
    await fillCart(user.id, [[product, 1]]);
    const refused = await checkout(user);
    expect(refused).toMatchObject({ status: 400, body: { error: `You have ${MAX_UNPAID_ORDERS} unpaid orders. Pay for or cancel one before placing another.` } });
    expect(await cartLineCount(user.id)).toBe(1);
    expect(await stockOf(product)).toMatchObject({ available: 50 - MAX_UNPAID_ORDERS, reserved: 0 });

    expect((await api("POST", `/api/orders/${orders[0]}/cancel/`, { token: user.access })).status).toBe(200);
    expect((await checkout(user)).status).toBe(201);
    await expectInvariant(product);
  });

  it("the sweep cancels an order left unpaid past PENDING_ORDER_TTL_SECONDS and restores its stock, exactly once", async () => {
    const { user, product, order } = await placeOrder(10, 4);
    await fillCart(user.id, [[product, 1]]);
    const fresh = (await checkout(user)).body;
    await backdate(order.id, 31);

    const report = await runSweep(env);
    expect(report.expiredOrders).toBeGreaterThanOrEqual(1);
    expect(await orderRow(order.id)).toMatchObject({ status: "cancelled", restocked_at: expect.any(String) });
    expect((await orderRow(fresh.id))?.status).toBe("pending");
    expect(await stockOf(product)).toMatchObject({ available: 9, sold: 1 });

    await runSweep(env);
    await Promise.all([runSweep(env), runSweep(env)]);
    expect(await stockOf(product)).toMatchObject({ available: 9, sold: 1 });
    await expectInvariant(product);
  });

  it("two sweeps and the owner's cancel racing for one expired order restore its stock once", async () => {
    const { user, product, order } = await placeOrder(10, 3);
    await backdate(order.id, 45);
    await Promise.all([runSweep(env), runSweep(env), api("POST", `/api/orders/${order.id}/cancel/`, { token: user.access })]);
    expect((await orderRow(order.id))?.status).toBe("cancelled");
    expect(await stockOf(product)).toMatchObject({ available: 10, sold: 0, reserved: 0 });
    await expectInvariant(product);
  });

  it("leaves paid orders and orders within their time alone", async () => {
    const admin = await createAdmin();
    const { product, order: paid } = await placeOrder(10, 1);
    await api("PATCH", `/api/orders/${paid.id}/update_status/`, { token: admin.access, body: { status: "paid" } });
    await backdate(paid.id, 120);
    await runSweep(env);
    expect(await orderRow(paid.id)).toMatchObject({ status: "paid", payment_status: "success" });
    await expectInvariant(product);
  });

  it("the Worker's scheduled handler runs the sweep", async () => {
    const { product, order } = await placeOrder(10, 2);
    await backdate(order.id, 60);
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await orderRow(order.id))?.status).toBe("cancelled");
    await expectInvariant(product);
  });
});

describe("the sweep repairs", () => {
  it("finishes a cancel that died after changing the status, before restocking", async () => {
    const { product, order } = await placeOrder(10, 2);
    // The status flip of a cancel whose request died right after it: no restock, no restocked_at.
    await env.DB.prepare("UPDATE orders SET status = 'cancelled' WHERE id = ?").bind(order.id).run();
    expect(await stockOf(product)).toMatchObject({ available: 8, sold: 2 });

    const report = await runSweep(env);
    expect(report.finishedCancels).toBeGreaterThanOrEqual(1);
    expect(await stockOf(product)).toMatchObject({ available: 10, sold: 0 });
    expect((await orderRow(order.id))?.restocked_at).not.toBeNull();
    await runSweep(env);
    expect(await stockOf(product)).toMatchObject({ available: 10, sold: 0 });
    await expectInvariant(product);
  });

  it("finishes a cancel whose restock call failed at the inventory object", async () => {
    const { product, order } = await placeOrder(10, 2);
    // The inventory namespace as production shows a failing object call: the stub's RPC throws.
    const failing = {
      ...env,
      INVENTORY: {
        getByName: () => ({ restock: () => Promise.reject(new Error("Durable Object reset because its code was updated.")) }),
      } as unknown as Env["INVENTORY"],
    };
    await runSweep(failing, Date.now() + 3_600_000).catch(() => undefined);
    expect(await orderRow(order.id)).toMatchObject({ status: "cancelled", restocked_at: null });
    expect(await stockOf(product)).toMatchObject({ available: 8, sold: 2 });

    await runSweep(env);
    expect(await orderRow(order.id)).toMatchObject({ status: "cancelled", restocked_at: expect.any(String) });
    expect(await stockOf(product)).toMatchObject({ available: 10, sold: 0 });
    await expectInvariant(product);
  });

  it("re-writes a drifted stock projection from the inventory object", async () => {
    const product = await insertProduct({ stock: 7 });
    await stockOf(product); // the object now owns the stock
    await env.DB.prepare("UPDATE products SET stock = 999 WHERE id = ?").bind(product).run();
    // The sweep checks a window of products per run: start this run's window at this product.
    await env.DB.prepare("INSERT OR REPLACE INTO sweep_cursors (name, position) VALUES ('projection', ?)").bind(product - 1).run();
    const report = await runSweep(env);
    expect(report.healedProjections).toBeGreaterThanOrEqual(1);
    expect(await projectedStock(product)).toBe(7);
  });

  it("purges expired idempotency keys, week-old webhook event ids and dead sessions, and keeps live ones", async () => {
    const user = await registerUser();
    const now = Math.floor(Date.now() / 1000);
    const old = new Date(Date.now() - 8 * 24 * 3_600_000).toISOString();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO idempotency_keys (user_id, key, scope, request_hash, expires_at) VALUES (?, 'old', 's', 'h', ?), (?, 'live', 's', 'h', ?)").bind(
        user.id,
        now - 10,
        user.id,
        now + 3600,
      ),
      env.DB.prepare("INSERT INTO webhook_events (id, event, received_at) VALUES ('evt_old', 'payment.captured', ?), ('evt_new', 'payment.captured', ?)").bind(
        old,
        new Date().toISOString(),
      ),
      env.DB.prepare("INSERT INTO sessions (id, user_id, refresh_jti, expires_at) VALUES ('dead', ?, 'j', ?)").bind(user.id, now - 10),
    ]);
    const report = await runSweep(env);
    expect(report).toMatchObject({ purgedIdempotencyKeys: 1, purgedWebhookEvents: 1, purgedSessions: 1, failedSteps: [] });
    const keys = await env.DB.prepare("SELECT key FROM idempotency_keys WHERE user_id = ?").bind(user.id).all();
    expect(keys.results).toEqual([{ key: "live" }]);
    expect(await env.DB.prepare("SELECT id FROM webhook_events ORDER BY id").all()).toMatchObject({ results: [{ id: "evt_new" }] });
    expect((await api("GET", "/api/auth/profile/", { token: user.access })).status).toBe(200);
  });
});

describe("admin stock edits never resurrect sold units", () => {
  it("a save with the ETag from before a sale answers 412 and the stock shows the sale", async () => {
    const admin = await createAdmin();
    const shopper = await registerUser();
    const product = await insertProduct({ stock: 10 });
    const form = await api("GET", `/api/products/${product}/`, { token: admin.access });
    const etag = form.headers.get("ETag")!;
    expect(etag).toMatch(/^"[0-9a-f]+"$/);

    await fillCart(shopper.id, [[product, 1]]);
    expect((await checkout(shopper)).status).toBe(201);

    const stale = await api("PATCH", `/api/products/${product}/`, { token: admin.access, headers: { "If-Match": etag }, body: { stock: 10, name: "Renamed" } });
    expect(stale.status).toBe(412);
    expect(stale.body.detail).toMatch(/changed since it was loaded/);
    const now = await api("GET", `/api/products/${product}/`, { token: admin.access });
    expect(now.body).toMatchObject({ stock: 9, name: form.body.name });

    const fresh = await api("PUT", `/api/products/${product}/`, {
      token: admin.access,
      headers: { "If-Match": now.headers.get("ETag")! },
      body: { name: "Renamed", price: now.body.price, category: now.body.category.id, stock: 20 },
    });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ stock: 20, name: "Renamed" });
    expect(fresh.headers.get("ETag")).not.toBe(now.headers.get("ETag"));
    await expectInvariant(product);
  });

  it("stock_adjustment adds or removes units in the object, never below zero", async () => {
    const admin = await createAdmin();
    const product = await insertProduct({ stock: 5 });
    const added = await api("PATCH", `/api/products/${product}/`, { token: admin.access, body: { stock_adjustment: 7 } });
    expect(added).toMatchObject({ status: 200, body: { stock: 12 } });
    const removed = await api("PATCH", `/api/products/${product}/`, { token: admin.access, body: { stock_adjustment: -2 } });
    expect(removed.body.stock).toBe(10);
    const tooMany = await api("PATCH", `/api/products/${product}/`, { token: admin.access, body: { stock_adjustment: -11 } });
    expect(tooMany).toMatchObject({ status: 400, body: { stock_adjustment: ["Only 10 in stock; cannot remove 11."] } });
    const both = await api("PATCH", `/api/products/${product}/`, { token: admin.access, body: { stock: 1, stock_adjustment: 1 } });
    expect(both).toMatchObject({ status: 400, body: { stock_adjustment: ["Send either stock or stock_adjustment, not both."] } });
    expect(await stockOf(product)).toMatchObject({ available: 10, total: 10 });
    await vi.waitFor(async () => expect(await projectedStock(product)).toBe(10));
  });

  it("a field refused after the stock was written puts the stock back", async () => {
    const admin = await createAdmin();
    const product = await insertProduct({ stock: 5 });
    const res = await api("PATCH", `/api/products/${product}/`, { token: admin.access, body: { stock: 50, category: 987654 } });
    expect(res).toMatchObject({ status: 400, body: { category: ['Invalid pk "987654" - object does not exist.'] } });
    expect((await stockOf(product)).available).toBe(5);
  });
});

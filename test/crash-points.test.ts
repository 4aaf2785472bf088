/**
 * The crash-point harness (issue 27): every multi-step write is stopped at each of its I/O boundaries in turn, the
 * Worker dying before the k-th call or right after it (its answer lost), for k = 1, 2, ... up to the last call the flow
 * makes. Then the healers run (the client's or Razorpay's retry, the inventory objects' alarms, the scheduled sweep)
 * and the same invariants are checked every time:
 * - per product: available + reserved + sold = total, nothing left reserved, and the units sold are exactly the units
 *   of live (not cancelled) orders;
 * - every captured payment of a cancelled order is refunded or visibly owed, and Razorpay refunded it at most once;
 * - no order is processing, shipped or delivered with a refunded (or owed) payment;
 * - no Idempotency-Key made two orders, and a guest cart is merged into the user's cart at most once.
 * A new multi-step write joins by adding a Flow: its setup, the request, its own healer if it has one.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "../src/db/client";
import { expireUnpaidOrders, finishCancellations } from "../src/features/orders/orders.sweep";
import { runSweep } from "../src/features/sweep/sweep.service";
import { inventoryOf } from "../src/inventory/inventory.client";
import { type CrashMode, Faults, faultyEnv, sendWith } from "./crash-harness";
import { fillCart, insertProduct, soldInD1, stockOf } from "./fixtures";
import { api, createAdmin, registerUser, type TestUser, unique } from "./helpers";
import { fakeRazorpay, type FakeRazorpay, signedRefundWebhook, signedWebhook } from "./razorpay-fake";

const address = { shipping_address: "1 Crash Point, Pune, MH 411001, India" };

interface Case {
  products: number[];
  /** The request (or job) under test, through the faulty bindings. */
  run(bindings: Env): Promise<unknown>;
  /** What retries it afterwards, through the real bindings (a client retry, a webhook redelivery). */
  retry?(): Promise<unknown>;
  /** Extra invariants of this flow. */
  check?(): Promise<void>;
}

interface Flow {
  name: string;
  setup(): Promise<Case>;
}

let fake: FakeRazorpay;
let admin: TestUser;
/** The shopper of the current case: a new one for each, as one may hold only 5 unpaid orders. */
let shopper: TestUser;

beforeAll(async () => {
  fake = fakeRazorpay();
  admin = await createAdmin();
});
afterAll(() => vi.restoreAllMocks());

const rupees = (amount: string) => Math.round(Number(amount) * 100);

async function placeOrder(quantity = 2) {
  const product = await insertProduct({ stock: 10 });
  await fillCart(shopper.id, [[product, quantity]]);
  const placed = await api("POST", "/api/orders/create_order/", { token: shopper.access, body: address });
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  return { product, orderId: placed.body.id as number, amount: rupees(placed.body.total_amount) };
}

async function initiatedOrder() {
  const order = await placeOrder();
  const init = await api("POST", "/api/payments/initiate/", { token: shopper.access, body: { order_id: order.orderId } });
  const razorpayOrderId = init.body.razorpay_order_id as string;
  const { paymentId, signature } = await fake.pay(razorpayOrderId, order.amount);
  return { ...order, razorpayOrderId, paymentId, signature };
}

async function paidOrder() {
  const order = await initiatedOrder();
  const verified = await api("POST", "/api/payments/verify/", {
    token: shopper.access,
    body: { razorpay_order_id: order.razorpayOrderId, razorpay_payment_id: order.paymentId, razorpay_signature: order.signature, order_id: order.orderId },
  });
  expect(verified.status).toBe(200);
  return order;
}

const webhook = (delivery: { raw: string; headers: Record<string, string> }) =>
  api("POST", "/api/payments/webhook/", { raw: delivery.raw, headers: delivery.headers });

const flows: Flow[] = [
  {
    name: "create order (with an Idempotency-Key)",
    async setup() {
      const product = await insertProduct({ stock: 10 });
      await fillCart(shopper.id, [[product, 2]]);
      const headers = { "Idempotency-Key": unique("crash-key-") };
      const send = (bindings: Env) => sendWith(bindings, "POST", "/api/orders/create_order/", { token: shopper.access, body: address, headers });
      return {
        products: [product],
        run: send,
        async retry() {
          // the client retries after the key counts as abandoned and the dead checkout's cart lease ran out
          await env.DB.batch([
            env.DB.prepare("UPDATE idempotency_keys SET created_at = ? WHERE key = ?").bind(new Date(Date.now() - 600_000).toISOString(), headers["Idempotency-Key"]),
            env.DB.prepare("UPDATE carts SET checkout_expires_at = 0 WHERE user_id = ?").bind(shopper.id),
          ]);
          const res = await send(env);
          expect([201, 400], JSON.stringify(res.body)).toContain(res.status);
        },
      };
    },
  },
  {
    name: "cancel by the user",
    async setup() {
      const { product, orderId } = await placeOrder();
      const send = (bindings: Env) => sendWith(bindings, "POST", `/api/orders/${orderId}/cancel/`, { token: shopper.access });
      return { products: [product], run: send, retry: () => send(env) };
    },
  },
  {
    name: "cancel by an admin (paid order: refund, then restock)",
    async setup() {
      const { product, orderId } = await paidOrder();
      const send = (bindings: Env) => sendWith(bindings, "PATCH", `/api/orders/${orderId}/update_status/`, { token: admin.access, body: { status: "cancelled" } });
      return { products: [product], run: send };
    },
  },
  {
    name: "unpaid expiry (the sweep)",
    async setup() {
      const { product, orderId } = await placeOrder();
      await env.DB.prepare("UPDATE orders SET created_at = ? WHERE id = ?").bind(new Date(Date.now() - 3_600_000).toISOString(), orderId).run();
      // the sweep's expiry and restock steps (its other steps are other repairs, each bounded and idempotent)
      return {
        products: [product],
        run: async (bindings) => {
          const database = db(bindings.DB);
          await expireUnpaidOrders(database, new Date(Date.now() - 1_800_000).toISOString());
          await finishCancellations(bindings, database);
        },
      };
    },
  },
  {
    name: "payment verify",
    async setup() {
      const order = await initiatedOrder();
      const body = { razorpay_order_id: order.razorpayOrderId, razorpay_payment_id: order.paymentId, razorpay_signature: order.signature, order_id: order.orderId };
      return {
        products: [order.product],
        run: (bindings) => sendWith(bindings, "POST", "/api/payments/verify/", { token: shopper.access, body }),
        // Razorpay sends the capture webhook whatever happened to verify
        retry: async () => webhook(await signedWebhook("payment.captured", order.razorpayOrderId, order.paymentId, order.amount)),
        async check() {
          const row = await env.DB.prepare("SELECT status, payment_status FROM orders WHERE id = ?").bind(order.orderId).first();
          expect(row).toEqual({ status: "paid", payment_status: "success" });
        },
      };
    },
  },
  {
    name: "capture webhook for a cancelled order",
    async setup() {
      const order = await initiatedOrder();
      expect((await api("POST", `/api/orders/${order.orderId}/cancel/`, { token: shopper.access })).status).toBe(200);
      const delivery = await signedWebhook("payment.captured", order.razorpayOrderId, order.paymentId, order.amount);
      return {
        products: [order.product],
        run: (bindings) => sendWith(bindings, "POST", "/api/payments/webhook/", { raw: delivery.raw, headers: delivery.headers }),
        retry: () => webhook(delivery), // Razorpay redelivers anything that was not answered 2xx
      };
    },
  },
  {
    name: "refund webhook",
    async setup() {
      const order = await paidOrder();
      fake.refundFailure = "server-error";
      await api("PATCH", `/api/orders/${order.orderId}/update_status/`, { token: admin.access, body: { status: "cancelled" } });
      fake.refundFailure = undefined;
      const delivery = await signedRefundWebhook(order.razorpayOrderId, order.paymentId, unique("rfnd_"), order.amount);
      return {
        products: [order.product],
        run: (bindings) => sendWith(bindings, "POST", "/api/payments/webhook/", { raw: delivery.raw, headers: delivery.headers }),
        retry: () => webhook(delivery),
      };
    },
  },
  {
    name: "admin stock edit with If-Match",
    async setup() {
      const product = await insertProduct({ stock: 10 });
      const form = await api("GET", `/api/products/${product}/`, { token: admin.access });
      const send = (bindings: Env) =>
        sendWith(bindings, "PATCH", `/api/products/${product}/`, { token: admin.access, headers: { "If-Match": form.headers.get("ETag")! }, body: { stock: 15 } });
      return {
        products: [product],
        run: send,
        retry: () => send(env), // the admin saves again: 200, or 412 if the first save took effect
        async check() {
          const s = await stockOf(product);
          expect([10, 15]).toContain(s.available);
          await inventoryOf(env, product).healProjection(-1); // what the sweep's projection window does
          const projected = await env.DB.prepare("SELECT stock FROM products WHERE id = ?").bind(product).first<{ stock: number }>();
          expect(projected?.stock).toBe(s.available);
        },
      };
    },
  },
  {
    name: "product delete",
    async setup() {
      const product = await insertProduct({ stock: 10 });
      await fillCart(shopper.id, [[product, 1]]);
      const send = (bindings: Env) => sendWith(bindings, "DELETE", `/api/products/${product}/`, { token: admin.access });
      return {
        products: [],
        run: send,
        retry: () => send(env),
        async check() {
          const left = await env.DB.prepare("SELECT (SELECT count(*) FROM products WHERE id = ?1) AS products, (SELECT count(*) FROM cart_items WHERE product_id = ?1) AS lines").bind(product).first();
          expect(left).toEqual({ products: 0, lines: 0 });
          await env.DB.prepare("DELETE FROM cart_items WHERE product_id = ?").bind(product).run();
        },
      };
    },
  },
  {
    name: "cart merge on login",
    async setup() {
      const user = await registerUser("merge");
      const product = await insertProduct({ stock: 50 });
      const added = await api("POST", "/api/cart/add/", { body: { product_id: product, quantity: 3 } });
      const cartId = added.headers.get("X-Cart-Id")!;
      const send = (bindings: Env) =>
        sendWith(bindings, "POST", "/api/auth/login/", { body: { username: user.username, password: user.password }, headers: { "X-Cart-Id": cartId } });
      return {
        products: [product],
        run: send,
        retry: () => send(env), // the shopper signs in again with the same anonymous cart
        async check() {
          const line = await env.DB.prepare("SELECT ci.quantity FROM cart_items ci JOIN carts c ON c.id = ci.cart_id WHERE c.user_id = ? AND ci.product_id = ?")
            .bind(user.id, product)
            .first<{ quantity: number }>();
          expect(line?.quantity).toBe(3); // merged once: never lost, never doubled
        },
      };
    },
  },
];

/** The healers, in the order the platform would run them once the dust settles. */
async function heal(c: Case) {
  await c.retry?.();
  for (const product of c.products) {
    const stub = inventoryOf(env, product);
    await runInDurableObject(stub, (_instance, state) => void state.storage.sql.exec("UPDATE holds SET expires_at = 0 WHERE state = 'reserved'"));
    await runDurableObjectAlarm(stub);
  }
  // past the refund lease; the unpaid-order expiry (30 minutes) is not reached
  await runSweep(env, Date.now() + 60_000);
  await runSweep(env, Date.now() + 60_000);
}

async function checkInvariants(c: Case) {
  for (const product of c.products) {
    const s = await stockOf(product);
    expect(s.available).toBeGreaterThanOrEqual(0);
    expect(s.available + s.reserved + s.sold).toBe(s.total);
    expect(s.reserved).toBe(0);
    expect(s.sold).toBe(await soldInD1(product));
  }
  const unrefunded = await env.DB.prepare(
    "SELECT o.id, p.status FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.status = 'cancelled' AND p.status NOT IN ('initiated', 'failed', 'refunded', 'refund_pending', 'refund_failed')",
  ).all();
  expect(unrefunded.results).toEqual([]);
  const shippedRefunded = await env.DB.prepare(
    `SELECT o.id FROM orders o LEFT JOIN payments p ON p.order_id = o.id WHERE o.status IN ('processing', 'shipped', 'delivered')
     AND (o.payment_status != 'success' OR p.status IN ('refunded', 'refund_pending', 'refund_failed'))`,
  ).all();
  expect(shippedRefunded.results).toEqual([]);
  for (const paymentId of fake.payments.keys()) expect(fake.refundsMade(paymentId)).toBeLessThanOrEqual(1);
  const doubleKeys = await env.DB.prepare("SELECT resource_id FROM idempotency_keys WHERE resource_id IS NOT NULL GROUP BY resource_id HAVING count(*) > 1").all();
  expect(doubleKeys.results).toEqual([]);
  const keyOrders = await env.DB.prepare(
    "SELECT k.key, count(o.id) AS n FROM idempotency_keys k JOIN orders o ON o.user_id = k.user_id AND o.id = k.resource_id WHERE k.key LIKE 'crash-key-%' GROUP BY k.key HAVING n > 1",
  ).all();
  expect(keyOrders.results).toEqual([]);
  await c.check?.();
}

describe.each(flows)("crash points: $name", (flow) => {
  it("keeps every invariant when the Worker dies before or after any of its I/O calls", async () => {
    // A run with no fault counts the flow's I/O calls: the boundaries to stop at.
    shopper = await registerUser("crash");
    const dry = await flow.setup();
    const counter = new Faults();
    fake.faults = counter;
    await dry.run(faultyEnv(counter));
    fake.faults = undefined;
    await heal(dry);
    await checkInvariants(dry);
    const boundaries = counter.calls;
    expect(boundaries).toBeGreaterThan(0);

    for (let at = 1; at <= boundaries; at++) {
      for (const mode of ["before", "after"] as CrashMode[]) {
        shopper = await registerUser("crash");
        const c = await flow.setup();
        const faults = new Faults({ at, mode });
        fake.faults = faults;
        await c.run(faultyEnv(faults)).catch(() => undefined); // a dead Worker's answer is whatever it managed
        fake.faults = undefined;
        try {
          await heal(c);
          await checkInvariants(c);
        } catch (err) {
          throw new Error(`${flow.name}: dying ${mode} call ${at} of ${boundaries} (${faults.trace[at - 1]}) broke an invariant: ${String(err)}`);
        }
      }
    }
  }, 600_000);
});

/**
 * Issue 27's scenarios: money and stock stay right when a request dies halfway or an answer is lost. Each test
 * failed on the main branch before the fix; faults come through wrapped bindings (test/crash-harness.ts) and a fake
 * Razorpay that really makes (and counts) refunds.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runSweep } from "../src/features/sweep/sweep.service";
import { MAX_REFUND_ATTEMPTS } from "../src/features/payments/refunds.service";
import { inventoryOf } from "../src/inventory/inventory.client";
import { type FaultPlan, Faults, faultyEnv, type IoCall, sendWith } from "./crash-harness";
import { cartLineCount, expectInvariant, fillCart, insertProduct, stockOf } from "./fixtures";
import { api, createAdmin, registerUser, type TestUser } from "./helpers";
import { fakeRazorpay, signedRefundWebhook, signedWebhook, type FakeRazorpay } from "./razorpay-fake";

afterEach(() => vi.restoreAllMocks());

const address = { shipping_address: "27 Fault Lane, Pune, MH 411001, India" };
const HOUR = 3_600_000;

/** A shopper's order of `quantity` units, initiated with Razorpay; `paid`: the payment is captured and verified. */
async function placedOrder(fake: FakeRazorpay, { stock = 10, quantity = 2, paid = true } = {}) {
  const user = await registerUser("money");
  const product = await insertProduct({ stock });
  await fillCart(user.id, [[product, quantity]]);
  const order = (await api("POST", "/api/orders/create_order/", { token: user.access, body: address })).body;
  const razorpayOrderId = (await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.id } })).body.razorpay_order_id;
  const { paymentId, signature } = await fake.pay(razorpayOrderId, order.total_amount === undefined ? 0 : Math.round(Number(order.total_amount) * 100));
  if (paid) {
    const verified = await api("POST", "/api/payments/verify/", {
      token: user.access,
      body: { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id },
    });
    expect(verified.status).toBe(200);
  }
  return { user, product, orderId: order.id as number, razorpayOrderId, paymentId, amount: Math.round(Number(order.total_amount) * 100) };
}

async function paymentRow(orderId: number) {
  return env.DB.prepare("SELECT status, refund_attempts, razorpay_refund_id FROM payments WHERE order_id = ?")
    .bind(orderId)
    .first<{ status: string; refund_attempts: number; razorpay_refund_id: string | null }>();
}

const orderView = async (admin: TestUser, orderId: number) => (await api("GET", `/api/orders/${orderId}/`, { token: admin.access })).body;
const setStatus = (admin: TestUser, orderId: number, status: string) =>
  api("PATCH", `/api/orders/${orderId}/update_status/`, { token: admin.access, body: { status } });

describe("1. a cancel that dies before the refund", () => {
  it("the sweep refunds the customer exactly once, and only then puts the units back on sale", async () => {
    const fake = fakeRazorpay();
    const admin = await createAdmin();
    const { product, orderId, paymentId } = await placedOrder(fake);
    const faults = new Faults({ at: (call) => call.label.includes("/refund"), mode: "before" });
    fake.faults = faults;
    await sendWith(faultyEnv(faults), "PATCH", `/api/orders/${orderId}/update_status/`, { token: admin.access, body: { status: "cancelled" } });
    fake.faults = undefined;
    expect(faults.dead).toBe(true);
    expect(await orderView(admin, orderId)).toMatchObject({ status: "cancelled", refund_status: "refund_pending" });
    expect(await stockOf(product)).toMatchObject({ available: 8, sold: 2 });

    // The sweep leaves it to the request for REFUND_LEASE_MS, then finishes it.
    await runSweep(env);
    expect(await stockOf(product)).toMatchObject({ available: 8, sold: 2 });
    await runSweep(env, Date.now() + HOUR);
    await runSweep(env, Date.now() + 2 * HOUR);
    expect(fake.refundsMade(paymentId)).toBe(1);
    expect(await orderView(admin, orderId)).toMatchObject({ status: "cancelled", payment_status: "refunded", refund_status: "refunded" });
    expect(await stockOf(product)).toMatchObject({ available: 10, sold: 0 });
    await expectInvariant(product);
  });
});

describe("2. a refund whose answer is lost", () => {
  it("keeps the order cancelled with the refund pending, retries with the same key, and refunds once", async () => {
    const fake = fakeRazorpay();
    const admin = await createAdmin();
    const { product, orderId, paymentId } = await placedOrder(fake);
    fake.refundFailure = "timeout-after-refunding";
    const res = await setStatus(admin, orderId, "cancelled");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "cancelled", payment_status: "success", refund_status: "refund_pending" });
    // Goods never ship while the money may be on its way back.
    for (const status of ["processing", "shipped", "delivered", "paid"]) expect((await setStatus(admin, orderId, status)).status).toBe(400);

    fake.refundFailure = undefined;
    await runSweep(env, Date.now() + HOUR);
    expect(fake.refundsMade(paymentId)).toBe(1);
    expect(new Set(fake.refundCalls.map((c) => c.key))).toEqual(new Set([`refund-${String(orderId).padStart(10, "0")}`]));
    expect(await orderView(admin, orderId)).toMatchObject({ status: "cancelled", payment_status: "refunded", refund_status: "refunded" });
    await expectInvariant(product);
  });

  it("a 5xx leaves the order cancelled (not paid); the later refund.processed webhook settles it", async () => {
    const fake = fakeRazorpay();
    const admin = await createAdmin();
    const { orderId, paymentId, razorpayOrderId, amount } = await placedOrder(fake);
    fake.refundFailure = "server-error";
    const res = await setStatus(admin, orderId, "cancelled");
    expect(res.body).toMatchObject({ status: "cancelled", refund_status: "refund_pending" });
    const delivery = await signedRefundWebhook(razorpayOrderId, paymentId, "rfnd_from_dashboard", amount);
    expect((await api("POST", "/api/payments/webhook/", { raw: delivery.raw, headers: delivery.headers })).status).toBe(200);
    expect(await paymentRow(orderId)).toMatchObject({ status: "refunded", razorpay_refund_id: "rfnd_from_dashboard" });
    const shipped = await setStatus(admin, orderId, "shipped");
    expect(shipped.status).toBe(400);
    expect((await orderView(admin, orderId)).status).toBe("cancelled");
  });

  it("no order moves to processing, shipped or delivered unless its payment is captured and not refunded (400 naming status)", async () => {
    const fake = fakeRazorpay();
    const admin = await createAdmin();
    const unpaid = await placedOrder(fake, { paid: false });
    const refused = await setStatus(admin, unpaid.orderId, "shipped");
    expect(refused).toMatchObject({ status: 400, body: { status: [expect.stringMatching(/payment is captured/)] } });

    const paid = await placedOrder(fake);
    const delivery = await signedRefundWebhook(paid.razorpayOrderId, paid.paymentId, "rfnd_dashboard_2", paid.amount);
    expect((await api("POST", "/api/payments/webhook/", { raw: delivery.raw, headers: delivery.headers })).status).toBe(200);
    for (const status of ["processing", "shipped", "delivered"]) {
      expect(await setStatus(admin, paid.orderId, status)).toMatchObject({ status: 400, body: { status: [expect.any(String)] } });
    }
    const fine = await placedOrder(fake);
    expect((await setStatus(admin, fine.orderId, "processing")).status).toBe(200);
    expect((await setStatus(admin, fine.orderId, "shipped")).status).toBe(200);
  });

  it("only a definite refusal (4xx) puts the order back to paid, with its units still sold", async () => {
    const fake = fakeRazorpay();
    const admin = await createAdmin();
    const { product, orderId } = await placedOrder(fake);
    fake.refundFailure = "refuse";
    const res = await setStatus(admin, orderId, "cancelled");
    expect(res).toMatchObject({ status: 502, body: { error: "Payment gateway error: The payment has been fully refunded already" } });
    expect(await orderView(admin, orderId)).toMatchObject({ status: "paid", payment_status: "success", refund_status: null });
    await runSweep(env, Date.now() + HOUR);
    expect(await stockOf(product)).toMatchObject({ available: 8, sold: 2 });
    await expectInvariant(product);
  });
});

describe("3. a capture webhook whose refund is refused for good", () => {
  it("answers 2xx once recorded, keeps the refund as a visible obligation, retries with back-off, then refund_failed", async () => {
    const fake = fakeRazorpay();
    const admin = await createAdmin();
    const shopper = await placedOrder(fake, { paid: false });
    expect((await api("POST", `/api/orders/${shopper.orderId}/cancel/`, { token: shopper.user.access })).status).toBe(200);
    fake.refundFailure = "refuse";
    const delivery = await signedWebhook("payment.captured", shopper.razorpayOrderId, shopper.paymentId, shopper.amount);
    const res = await api("POST", "/api/payments/webhook/", { raw: delivery.raw, headers: delivery.headers });
    expect(res).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await orderView(admin, shopper.orderId)).toMatchObject({ status: "cancelled", payment_status: "success", refund_status: "refund_pending" });
    expect(await paymentRow(shopper.orderId)).toMatchObject({ status: "refund_pending", refund_attempts: 1 });

    // A sweep before the back-off asks nothing; later ones retry until the attempts run out.
    const calls = fake.refundCalls.length;
    await runSweep(env);
    expect(fake.refundCalls.length).toBe(calls);
    for (let i = 1; i <= MAX_REFUND_ATTEMPTS; i++) await runSweep(env, Date.now() + i * 4 * HOUR);
    expect(fake.refundCalls.length).toBe(MAX_REFUND_ATTEMPTS);
    expect(await paymentRow(shopper.orderId)).toMatchObject({ status: "refund_failed", refund_attempts: MAX_REFUND_ATTEMPTS });
    expect(await orderView(admin, shopper.orderId)).toMatchObject({ status: "cancelled", refund_status: "refund_failed" });

    // An admin repeating the cancel asks again; Razorpay now refunds.
    fake.refundFailure = undefined;
    expect((await setStatus(admin, shopper.orderId, "cancelled")).body).toMatchObject({ refund_status: "refunded", payment_status: "refunded" });
    expect(fake.refundsMade(shopper.paymentId)).toBe(1);
    await expectInvariant(shopper.product);
  });
});

/** Makes every hold of the product due now, then fires its alarm (what happens once a hold's TTL passed). */
async function expireHoldsAndRunAlarm(productId: number) {
  const stub = inventoryOf(env, productId);
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE holds SET expires_at = 0");
  });
  await runDurableObjectAlarm(stub);
}

const isOrderBatch = (call: IoCall) => call.sql[0]?.startsWith('insert into "orders"') ?? false;
const checkout = (user: TestUser, headers: Record<string, string> = {}, body: object = address) =>
  api("POST", "/api/orders/create_order/", { token: user.access, body, headers });
const orderCount = async (userId: number) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM orders WHERE user_id = ?").bind(userId).first<{ n: number }>())!.n;

describe("4. a hold that expired before its order committed", () => {
  /** A's order batch reaches D1 late: meanwhile A's holds expire, the alarm releases them and B buys the units. */
  function lateBatch(product: number, b: TestUser, plan: Partial<FaultPlan> = {}) {
    const seen = { b: undefined as Awaited<ReturnType<typeof checkout>> | undefined };
    const faults = new Faults({
      ...plan,
      meanwhile: async (call) => {
        if (seen.b || !isOrderBatch(call)) return;
        await expireHoldsAndRunAlarm(product);
        seen.b = await checkout(b);
      },
    });
    return { faults, seen };
  }

  it("a batch D1 runs after the alarm released the holds writes no order, even when the Worker then dies", async () => {
    const product = await insertProduct({ stock: 2 });
    const [a, b] = [await registerUser("late"), await registerUser("other")];
    await fillCart(a.id, [[product, 2]]);
    await fillCart(b.id, [[product, 2]]);
    const { faults, seen } = lateBatch(product, b, { at: (call) => call.label.endsWith(".commit"), mode: "before" });
    await sendWith(faultyEnv(faults), "POST", "/api/orders/create_order/", { token: a.access, body: address });
    expect(seen.b?.status).toBe(201);
    await expireHoldsAndRunAlarm(product);
    await runSweep(env);
    expect(await orderCount(a.id)).toBe(0);
    expect(await expectInvariant(product)).toMatchObject({ available: 0, sold: 2 });
    expect(await cartLineCount(a.id)).toBe(1);
  });

  it("without the crash the shopper is told to retry, and the cart is still there to retry with", async () => {
    const product = await insertProduct({ stock: 4 });
    const [a, b] = [await registerUser("late"), await registerUser("other")];
    await fillCart(a.id, [[product, 2]]);
    await fillCart(b.id, [[product, 2]]);
    const { faults } = lateBatch(product, b);
    const first = await sendWith(faultyEnv(faults), "POST", "/api/orders/create_order/", { token: a.access, body: address });
    expect(first).toMatchObject({ status: 503, body: { error: "Stock reservation expired, please retry" } });
    expect(await cartLineCount(a.id)).toBe(1);
    expect((await checkout(a)).status).toBe(201);
    expect(await expectInvariant(product)).toMatchObject({ available: 0, sold: 4 });
  });
});

describe("5. an Idempotency-Key whose first request died", () => {
  it("a retry replays the order the first request wrote, never an empty cart or a second order; another body is a 422", async () => {
    const user = await registerUser("idem");
    const product = await insertProduct({ stock: 10 });
    await fillCart(user.id, [[product, 2]]);
    const key = { "Idempotency-Key": `died-${Date.now()}` };
    // The order batch commits, its answer is lost and the Worker dies: no response is stored for the key.
    const faults = new Faults({ at: isOrderBatch, mode: "after" });
    await sendWith(faultyEnv(faults), "POST", "/api/orders/create_order/", { token: user.access, body: address, headers: key });
    expect(await orderCount(user.id)).toBe(1);
    // Long enough ago that the key counts as abandoned.
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = ? WHERE user_id = ?").bind(new Date(Date.now() - 10 * 60_000).toISOString(), user.id).run();

    const retry = await checkout(user, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.body.items).toHaveLength(1);
    expect((await checkout(user, key)).body.id).toBe(retry.body.id);
    expect(await checkout(user, key, { shipping_address: "Somewhere else" })).toMatchObject({ status: 422 });
    await fillCart(user.id, [[product, 1]]);
    expect((await checkout(user, key)).status).toBe(422);
    expect(await orderCount(user.id)).toBe(1);
    await expireHoldsAndRunAlarm(product);
    await expectInvariant(product);
  });

  it("a key whose first request died before writing anything runs again once abandoned, with a different body still a 422", async () => {
    const user = await registerUser("idem");
    const product = await insertProduct({ stock: 10 });
    await fillCart(user.id, [[product, 1]]);
    const key = { "Idempotency-Key": `early-${Date.now()}` };
    await sendWith(faultyEnv(new Faults({ at: isOrderBatch, mode: "before" })), "POST", "/api/orders/create_order/", { token: user.access, body: address, headers: key });
    expect((await checkout(user, key)).status).toBe(409); // maybe still running
    // Ten minutes later: the key is abandoned and the dead checkout's cart lease has run out.
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = ? WHERE user_id = ?").bind(new Date(Date.now() - 10 * 60_000).toISOString(), user.id).run();
    await env.DB.prepare("UPDATE carts SET checkout_expires_at = 0 WHERE user_id = ?").bind(user.id).run();
    expect(await checkout(user, key, { shipping_address: "Somewhere else" })).toMatchObject({ status: 422 });
    expect((await checkout(user, key)).status).toBe(201);
    expect(await orderCount(user.id)).toBe(1);
    await expireHoldsAndRunAlarm(product);
    await expectInvariant(product);
  });
});

import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { db } from "../src/db/client";
import { settleRefund } from "../src/features/payments/refunds.service";
import { runSweep } from "../src/features/sweep/sweep.service";
import { verifyPaymentSignature } from "../src/features/payments/razorpay";
import { ApiError } from "../src/lib/errors";
import { hmacSha256Hex } from "../src/lib/crypto";
import { api, createAdmin, registerUser, type TestUser, unique } from "./helpers";

// The secrets vitest.config.ts gives the Worker.
const KEY_SECRET = "test_key_secret";
const WEBHOOK_SECRET = "test_webhook_secret";
const RAZORPAY = "https://api.razorpay.test";

afterEach(() => vi.restoreAllMocks());

interface RazorpayCall {
  method: string;
  path: string;
  headers: Headers;
  body: any;
  signal: AbortSignal | null | undefined;
}

/**
 * Stands in for Razorpay's API behind `fetch`: creates orders, knows the payments the test made with `pay()`, and
 * refunds them. `failWith` makes every call fail the way a test needs.
 */
function fakeRazorpay() {
  const fake = {
    calls: [] as RazorpayCall[],
    payments: new Map<string, { order_id: string; amount: number; status: string }>(),
    failWith: undefined as undefined | (() => Response),
    /** Razorpay refuses every capture (e.g. the payment's authorization expired). */
    refuseCapture: false,
    /** Runs while Razorpay is creating an order: lets a test slip in a concurrent writer. */
    onCreateOrder: undefined as undefined | (() => Promise<unknown>),
    /** A Checkout payment on a Razorpay order, with the signature Checkout would hand the client. */
    async pay(razorpayOrderId: string, amount: number, status = "captured") {
      const paymentId = unique("pay_");
      fake.payments.set(paymentId, { order_id: razorpayOrderId, amount, status });
      return { paymentId, signature: await hmacSha256Hex(KEY_SECRET, `${razorpayOrderId}|${paymentId}`) };
    },
  };
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.origin !== RAZORPAY) throw new Error(`unexpected fetch ${req.url}`);
    const body: any = req.method === "POST" ? await req.json() : undefined;
    fake.calls.push({ method: req.method, path: url.pathname, headers: req.headers, body, signal: init?.signal });
    if (fake.failWith) return fake.failWith();
    const paymentMatch = /^\/v1\/payments\/([^/]+)(\/refund|\/capture)?$/.exec(url.pathname);
    if (req.method === "POST" && url.pathname === "/v1/orders") {
      await fake.onCreateOrder?.();
      return Response.json({ id: unique("order_"), entity: "order", amount: body.amount, currency: body.currency, receipt: body.receipt, status: "created" });
    }
    const payment = paymentMatch && fake.payments.get(paymentMatch[1]);
    if (!payment) return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "The id provided does not exist" } }, { status: 400 });
    if (req.method === "GET") return Response.json({ id: paymentMatch[1], entity: "payment", ...payment });
    if (paymentMatch[2] === "/capture") {
      if (fake.refuseCapture) {
        return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "Payment authorization has expired" } }, { status: 400 });
      }
      if (payment.status !== "authorized") {
        return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "This payment has already been captured" } }, { status: 400 });
      }
      if (body.amount !== payment.amount) {
        return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "Capture amount must be equal to the amount authorized" } }, { status: 400 });
      }
      payment.status = "captured";
      return Response.json({ id: paymentMatch[1], entity: "payment", ...payment });
    }
    return Response.json({ id: `rfnd_${paymentMatch[1]}`, entity: "refund", amount: payment.amount, payment_id: paymentMatch[1], status: "processed" });
  });
  return fake;
}

async function insertOrder(user: TestUser, totalPaise: number, state: { status?: string; payment_status?: string } = {}) {
  const row = await env.DB.prepare(
    "INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, shipping_address) VALUES (?, ?, ?, ?, ?, ?) RETURNING id, order_number",
  )
    .bind(user.id, unique("ORD-").toUpperCase().slice(0, 16), totalPaise, state.status ?? "pending", state.payment_status ?? "pending", "1 Test St")
    .first<{ id: number; order_number: string }>();
  return row!;
}

async function orderState(orderId: number) {
  return env.DB.prepare("SELECT status, payment_status FROM orders WHERE id = ?").bind(orderId).first<{ status: string; payment_status: string }>();
}

async function paymentRow(orderId: number) {
  return env.DB.prepare("SELECT * FROM payments WHERE order_id = ?").bind(orderId).first<Record<string, any>>();
}

async function initiate(user: TestUser, orderId: number) {
  const res = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: orderId } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.razorpay_order_id as string;
}

function verify(user: TestUser, body: Record<string, unknown>) {
  return api("POST", "/api/payments/verify/", { token: user.access, body });
}

/** A user with a pending order whose Razorpay order is initiated. */
async function initiatedOrder(totalPaise = 50_000) {
  const user = await registerUser("payer");
  const order = await insertOrder(user, totalPaise);
  const razorpayOrderId = await initiate(user, order.id);
  return { user, order, razorpayOrderId };
}

describe("signatures", () => {
  it("computes Razorpay's HMAC-SHA256 and verifies it in constant time", async () => {
    const known = "52115a0d3400de9e86aade1f1b6eba9e8974604f4e267a9e9a16633a4c8dd2cb";
    expect(await hmacSha256Hex("secret", "order_1|pay_1")).toBe(known);
    expect(await verifyPaymentSignature("secret", "order_1", "pay_1", known)).toBe(true);
    expect(await verifyPaymentSignature("secret", "order_1", "pay_1", known.toUpperCase())).toBe(true);
    expect(await verifyPaymentSignature("secret", "order_1", "pay_2", known)).toBe(false);
    expect(await verifyPaymentSignature("other", "order_1", "pay_1", known)).toBe(false);
    expect(await verifyPaymentSignature("secret", "order_1", "pay_1", known.slice(0, 63))).toBe(false);
    expect(await verifyPaymentSignature("secret", "order_1", "pay_1", `${known.slice(0, 63)}z`)).toBe(false);
    expect(await verifyPaymentSignature("secret", "order_1", "pay_1", "")).toBe(false);
  });
});

describe("POST /api/payments/initiate/", () => {
  it("creates a Razorpay order for the caller's order and stores an initiated payment", async () => {
    const fake = fakeRazorpay();
    const user = await registerUser("payer");
    const order = await insertOrder(user, 12_990_000);
    const res = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.id } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      razorpay_order_id: expect.stringMatching(/^order_/),
      razorpay_key_id: "rzp_test_key",
      amount: 12_990_000,
      currency: "INR",
      order_id: order.id,
      order_number: order.order_number,
    });
    expect(fake.calls).toHaveLength(1);
    const [call] = fake.calls;
    expect(call.method).toBe("POST");
    expect(call.path).toBe("/v1/orders");
    expect(call.headers.get("Authorization")).toBe(`Basic ${btoa("rzp_test_key:test_key_secret")}`);
    expect(call.body).toEqual({ amount: 12_990_000, currency: "INR", receipt: order.order_number, notes: { order_id: String(order.id), order_number: order.order_number } });
    expect(call.signal).toBeInstanceOf(AbortSignal);
    expect(await paymentRow(order.id)).toMatchObject({ razorpay_order_id: res.body.razorpay_order_id, amount_paise: 12_990_000, currency: "INR", status: "initiated" });
  });

  it("honours an Idempotency-Key: the same key replays the first answer, another order with it is a 422", async () => {
    const fake = fakeRazorpay();
    const user = await registerUser("payer");
    const order = await insertOrder(user, 20_000);
    const other = await insertOrder(user, 30_000);
    const headers = { "Idempotency-Key": "pay-click-1" };
    const first = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.id }, headers });
    const again = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.id }, headers });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(fake.calls).toHaveLength(1);
    const misuse = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: other.id }, headers });
    expect(misuse.status).toBe(422);
  });

  it("reuses the Razorpay order when the same order is initiated again", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    expect(await initiate(user, order.id)).toBe(razorpayOrderId);
    expect(fake.calls).toHaveLength(1);
  });

  it("reuses the Razorpay order for a retry after a failed payment", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    expect((await webhook(paymentEvent("payment.failed", razorpayOrderId, "pay_failed1", 50_000))).status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "payment_failed", payment_status: "failed" });
    expect(await initiate(user, order.id)).toBe(razorpayOrderId);
    expect(fake.calls).toHaveLength(1);
  });

  it("creates a new Razorpay order when the order's amount changed since the last one", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder(50_000);
    await env.DB.prepare("UPDATE orders SET total_paise = 60000 WHERE id = ?").bind(order.id).run();
    const replacement = await initiate(user, order.id);
    expect(replacement).not.toBe(razorpayOrderId);
    expect(fake.calls.map((c) => c.body?.amount)).toEqual([50_000, 60_000]);
    expect(await paymentRow(order.id)).toMatchObject({ razorpay_order_id: replacement, amount_paise: 60_000, status: "initiated" });
  });

  it("keeps the Razorpay order stored by a concurrent click instead of overwriting it", async () => {
    const fake = fakeRazorpay();
    const user = await registerUser("payer");
    const order = await insertOrder(user, 10_000);
    fake.onCreateOrder = () =>
      env.DB.prepare("INSERT INTO payments (order_id, razorpay_order_id, amount_paise) VALUES (?, 'order_first_click', 10000)").bind(order.id).run();
    expect(await initiate(user, order.id)).toBe("order_first_click");
    expect(await paymentRow(order.id)).toMatchObject({ razorpay_order_id: "order_first_click", status: "initiated" });
  });

  it("never overwrites a payment that succeeded while its Razorpay order was being created", async () => {
    const fake = fakeRazorpay();
    const user = await registerUser("payer");
    const order = await insertOrder(user, 10_000);
    fake.onCreateOrder = () =>
      env.DB.prepare("INSERT INTO payments (order_id, razorpay_order_id, razorpay_payment_id, amount_paise, status) VALUES (?, 'order_paid_meanwhile', 'pay_meanwhile', 5000, 'success')")
        .bind(order.id)
        .run();
    const res = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.id } });
    expect(res).toMatchObject({ status: 400, body: { order_id: ["Order already paid"] } });
    expect(await paymentRow(order.id)).toMatchObject({ razorpay_order_id: "order_paid_meanwhile", status: "success" });
  });

  it("refuses someone else's order, an unknown order, a paid order and a cancelled order", async () => {
    const fake = fakeRazorpay();
    const owner = await registerUser("owner");
    const other = await registerUser("other");
    const order = await insertOrder(owner, 10_000);
    const paid = await insertOrder(owner, 10_000, { status: "paid", payment_status: "success" });
    const cancelled = await insertOrder(owner, 10_000, { status: "cancelled" });
    const cases: [TestUser, number, string][] = [
      [other, order.id, "Order not found"],
      [owner, 999_999, "Order not found"],
      [owner, paid.id, "Order already paid"],
      [owner, cancelled.id, "Cannot pay for cancelled order"],
    ];
    for (const [user, orderId, message] of cases) {
      const res = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: orderId } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ order_id: [message] });
    }
    expect(fake.calls).toHaveLength(0);
  });

  it("validates the body and requires a token", async () => {
    const user = await registerUser("payer");
    expect((await api("POST", "/api/payments/initiate/", { body: { order_id: 1 } })).status).toBe(401);
    const missing = await api("POST", "/api/payments/initiate/", { token: user.access, body: {} });
    expect(missing).toMatchObject({ status: 400, body: { order_id: ["This field is required."] } });
    for (const order_id of ["abc", 1.5, null, true]) {
      const wrongType = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id, extra: 1 } });
      // the unknown key is ignored, never an error of its own
      expect(wrongType).toMatchObject({ status: 400 });
      expect(wrongType.body).toEqual({ order_id: ["A valid integer is required."] });
    }
    for (const order_id of [0, -1, "12"]) {
      const unknown = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id } });
      expect(unknown).toMatchObject({ status: 400, body: { order_id: ["Order not found"] } });
    }
    const malformed = await api("POST", "/api/payments/initiate/", { token: user.access, raw: "{order_id: 1" });
    expect(malformed.status).toBe(400);
  });

  it("answers 502 with Razorpay's description when Razorpay refuses, and stores nothing", async () => {
    const fake = fakeRazorpay();
    fake.failWith = () =>
      Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "The amount must be at least INR 1.00" } }, { status: 400 });
    const user = await registerUser("payer");
    const order = await insertOrder(user, 50);
    const res = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.id } });
    expect(res).toMatchObject({ status: 502, body: { error: "Payment gateway error: The amount must be at least INR 1.00" } });
    expect(await paymentRow(order.id)).toBeNull();
  });

  it("answers 502 when Razorpay fails, times out or is unreachable, without leaking the key", async () => {
    const fake = fakeRazorpay();
    const user = await registerUser("payer");
    const order = await insertOrder(user, 10_000);
    const failures: [() => Response, string][] = [
      [() => new Response("<html>Bad gateway</html>", { status: 503 }), "Payment gateway error: HTTP 503"],
      [() => Response.json({ unexpected: true }), "Payment gateway error: unexpected response"],
      [() => { throw new DOMException("The operation was aborted due to timeout", "TimeoutError"); }, "Payment gateway error: timed out"],
      [() => { throw new TypeError("Network connection lost"); }, "Payment gateway error: unreachable"],
    ];
    for (const [failure, message] of failures) {
      fake.failWith = failure;
      const res = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.id } });
      expect(res.status).toBe(502);
      expect(res.body).toEqual({ error: message });
      expect(JSON.stringify(res.body)).not.toContain(KEY_SECRET);
    }
    expect(await paymentRow(order.id)).toBeNull();
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });

  it("answers 503 when the Razorpay keys are not configured", async () => {
    const fake = fakeRazorpay();
    const user = await registerUser("payer");
    const order = await insertOrder(user, 10_000);
    const res = await createApp().request(
      "https://shop.test/api/payments/initiate/",
      { method: "POST", headers: { Authorization: `Bearer ${user.access}`, "Content-Type": "application/json" }, body: JSON.stringify({ order_id: order.id }) },
      { ...env, RAZORPAY_KEY_ID: "", RAZORPAY_KEY_SECRET: "" },
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "Payments are not configured" });
    expect(fake.calls).toHaveLength(0);
  });
});

describe("POST /api/payments/verify/", () => {
  it("marks the payment success and the order paid", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    const body = { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id };
    const res = await verify(user, body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Payment verified successfully", order_number: order.order_number, payment_status: "success" });
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "success", razorpay_payment_id: paymentId, razorpay_signature: signature });
    expect(fake.calls.at(-1)).toMatchObject({ method: "GET", path: `/v1/payments/${paymentId}` });

    const again = await verify(user, body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
  });

  it("captures an authorized payment for the order's amount and currency, then marks the order paid", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000, "authorized");
    const res = await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    expect(res.status).toBe(200);
    expect(res.body.payment_status).toBe("success");
    const capture = fake.calls.find((c) => c.path === `/v1/payments/${paymentId}/capture`);
    expect(capture).toMatchObject({ method: "POST", body: { amount: 50_000, currency: "INR" } });
    expect(fake.payments.get(paymentId)?.status).toBe("captured");
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
  });

  it("does not mark an order paid while the payment is neither captured nor capturable", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000, "created");
    const res = await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    expect(res).toMatchObject({ status: 400, body: { error: "Payment not confirmed by the gateway" } });
    expect(fake.calls.some((c) => c.path.endsWith("/capture"))).toBe(false);
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });

  it("keeps the order unpaid when the capture fails at the gateway", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000, "authorized");
    fake.refuseCapture = true;
    const res = await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    expect(res).toMatchObject({ status: 502, body: { error: "Payment gateway error: Payment authorization has expired" } });
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });

  it("refuses a valid signature from the user's cheap order on an expensive order (the original's hole)", async () => {
    const fake = fakeRazorpay();
    const user = await registerUser("attacker");
    const cheap = await insertOrder(user, 100);
    const expensive = await insertOrder(user, 12_990_000);
    const cheapRazorpayOrder = await initiate(user, cheap.id);
    await initiate(user, expensive.id);
    const { paymentId, signature } = await fake.pay(cheapRazorpayOrder, 100);
    const res = await verify(user, { razorpay_order_id: cheapRazorpayOrder, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: expensive.id });
    expect(res).toMatchObject({ status: 400, body: { error: "Invalid payment signature" } });
    expect(await orderState(expensive.id)).toEqual({ status: "pending", payment_status: "pending" });
    expect(await paymentRow(expensive.id)).toMatchObject({ status: "initiated", razorpay_payment_id: null });
  });

  it("refuses forged, malformed and missing signatures", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    const base = { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, order_id: order.id };
    const forged = [
      await hmacSha256Hex("wrong_secret", `${razorpayOrderId}|${paymentId}`),
      await hmacSha256Hex(WEBHOOK_SECRET, `${razorpayOrderId}|${paymentId}`),
      `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`,
      signature.slice(0, 40),
      "not-a-signature",
    ];
    for (const razorpay_signature of forged) {
      const res = await verify(user, { ...base, razorpay_signature });
      expect(res).toMatchObject({ status: 400, body: { error: "Invalid payment signature" } });
    }
    const otherPayment = await verify(user, { ...base, razorpay_payment_id: "pay_other", razorpay_signature: signature });
    expect(otherPayment).toMatchObject({ status: 400, body: { error: "Invalid payment signature" } });
    const missing = await verify(user, base);
    expect(missing).toMatchObject({ status: 400, body: { razorpay_signature: ["This field is required."] } });
    const blank = await verify(user, { ...base, razorpay_signature: "" });
    expect(blank).toMatchObject({ status: 400, body: { razorpay_signature: ["This field may not be blank."] } });
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
    expect(fake.calls.filter((c) => c.method === "GET")).toHaveLength(0);
  });

  it("answers 404 for another user's order and for an order never initiated", async () => {
    const fake = fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    const intruder = await registerUser("intruder");
    const stolen = await verify(intruder, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    expect(stolen).toMatchObject({ status: 404, body: { error: "Order not found" } });
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });

    const fresh = await insertOrder(intruder, 10_000);
    const notInitiated = await verify(intruder, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: fresh.id });
    expect(notInitiated).toMatchObject({ status: 404, body: { error: "Payment record not found" } });
    expect((await verify(intruder, { razorpay_order_id: "x", razorpay_payment_id: "y", razorpay_signature: "z", order_id: 1 })).status).toBe(404);
    expect((await api("POST", "/api/payments/verify/", { body: {} })).status).toBe(401);
  });

  it("refuses to pay a cancelled order and leaves it cancelled", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    await env.DB.prepare("UPDATE orders SET status = 'cancelled' WHERE id = ?").bind(order.id).run();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    const res = await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    expect(res).toMatchObject({ status: 400, body: { error: "Cannot pay for cancelled order" } });
    expect(await orderState(order.id)).toEqual({ status: "cancelled", payment_status: "pending" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "initiated" });
  });

  it("refuses a payment that Razorpay says is for another amount or not completed", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    for (const [amount, status] of [[100, "captured"], [50_000, "failed"], [50_000, "created"]] as const) {
      const { paymentId, signature } = await fake.pay(razorpayOrderId, amount, status);
      const res = await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
      expect(res).toMatchObject({ status: 400, body: { error: "Payment not confirmed by the gateway" } });
    }
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });

  it("answers 502 and changes nothing when Razorpay cannot confirm the payment", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    fake.failWith = () => Response.json({ error: { code: "SERVER_ERROR", description: "We are facing some trouble" } }, { status: 500 });
    const res = await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    expect(res).toMatchObject({ status: 502, body: { error: "Payment gateway error: We are facing some trouble" } });
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });

  it("refuses a payment id already recorded on another order with a 400, not a 500", async () => {
    const fake = fakeRazorpay();
    const first = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(first.razorpayOrderId, 50_000);
    expect((await verify(first.user, { razorpay_order_id: first.razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: first.order.id })).status).toBe(200);

    const second = await initiatedOrder();
    // Razorpay would never do this; the fake claims the same payment belongs to the second order too.
    fake.payments.set(paymentId, { order_id: second.razorpayOrderId, amount: 50_000, status: "captured" });
    const reused = await verify(second.user, {
      razorpay_order_id: second.razorpayOrderId,
      razorpay_payment_id: paymentId,
      razorpay_signature: await hmacSha256Hex(KEY_SECRET, `${second.razorpayOrderId}|${paymentId}`),
      order_id: second.order.id,
    });
    expect(reused).toMatchObject({ status: 400, body: { error: "Payment already recorded for another order" } });
    expect(await orderState(second.order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });
});

function paymentEvent(event: string, razorpayOrderId: string, paymentId: string, amount: number) {
  const payment = { entity: { id: paymentId, entity: "payment", amount, currency: "INR", order_id: razorpayOrderId, status: event === "payment.failed" ? "failed" : "captured" } };
  const payload = event === "order.paid" ? { payment, order: { entity: { id: razorpayOrderId, entity: "order", status: "paid" } } } : { payment };
  return { entity: "event", account_id: "acc_test", event, contains: Object.keys(payload), payload, created_at: 1_700_000_000 };
}

function refundEvent(paymentId: string, razorpayOrderId: string, amount: number) {
  return {
    entity: "event",
    event: "refund.processed",
    contains: ["refund", "payment"],
    payload: {
      refund: { entity: { id: unique("rfnd_"), entity: "refund", amount, payment_id: paymentId, status: "processed" } },
      payment: { entity: { id: paymentId, order_id: razorpayOrderId, amount, status: "refunded" } },
    },
  };
}

interface WebhookOptions {
  secret?: string;
  signature?: string;
  eventId?: string | null;
  headers?: Record<string, string>;
}

async function webhook(body: unknown, options: WebhookOptions = {}) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const signature = options.signature ?? (await hmacSha256Hex(options.secret ?? WEBHOOK_SECRET, raw));
  const eventId = options.eventId === undefined ? unique("evt_") : options.eventId;
  return api("POST", "/api/payments/webhook/", {
    raw,
    headers: { "X-Razorpay-Signature": signature, ...(eventId ? { "x-razorpay-event-id": eventId } : {}), ...options.headers },
  });
}

describe("POST /api/payments/webhook/", () => {
  it("marks an order paid on payment.captured, found by Razorpay order id, even when verify never ran", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    const event = paymentEvent("payment.captured", razorpayOrderId, "pay_captured1", 50_000);
    const res = await webhook(event);
    expect(res).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
    const payment = await paymentRow(order.id);
    expect(payment).toMatchObject({ status: "success", razorpay_payment_id: "pay_captured1" });
    expect(JSON.parse(payment!.gateway_response)).toEqual(event);
  });

  it("marks an order paid on order.paid", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    expect((await webhook(paymentEvent("order.paid", razorpayOrderId, "pay_orderpaid1", 50_000))).status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
  });

  it("marks a pending order payment_failed on payment.failed, and a later capture still pays it", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    expect((await webhook(paymentEvent("payment.failed", razorpayOrderId, "pay_f1", 50_000))).status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "payment_failed", payment_status: "failed" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "failed" });
    expect((await webhook(paymentEvent("payment.captured", razorpayOrderId, "pay_f2", 50_000))).status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
  });

  it("never lets a late payment.failed undo a success", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    const res = await webhook(paymentEvent("payment.failed", razorpayOrderId, "pay_earlier_attempt", 50_000));
    expect(res.status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "success", razorpay_payment_id: paymentId });
  });

  it("applies an event once: a replay with the same event id changes nothing", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    const event = paymentEvent("payment.failed", razorpayOrderId, "pay_once", 50_000);
    expect((await webhook(event, { eventId: "evt_replayed_1" })).status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "payment_failed", payment_status: "failed" });
    // Put the order back: if the replay were applied again it would fail the order a second time.
    await env.DB.batch([
      env.DB.prepare("UPDATE orders SET status = 'pending', payment_status = 'pending' WHERE id = ?").bind(order.id),
      env.DB.prepare("UPDATE payments SET status = 'initiated' WHERE order_id = ?").bind(order.id),
    ]);
    const replay = await webhook(event, { eventId: "evt_replayed_1" });
    expect(replay).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
    const recorded = await env.DB.prepare("SELECT event FROM webhook_events WHERE id = ?").bind("evt_replayed_1").first();
    expect(recorded).toEqual({ event: "payment.failed" });
  });

  it("identifies an event by its body hash when Razorpay sends no event id", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    const raw = JSON.stringify(paymentEvent("payment.failed", razorpayOrderId, "pay_noid", 50_000));
    expect((await webhook(raw, { eventId: null })).status).toBe(200);
    await env.DB.prepare("UPDATE orders SET status = 'pending', payment_status = 'pending' WHERE id = ?").bind(order.id).run();
    expect((await webhook(raw, { eventId: null })).status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });

  it("rejects missing, forged and wrongly keyed signatures and a body altered by one byte, changing nothing", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    const raw = JSON.stringify(paymentEvent("payment.captured", razorpayOrderId, "pay_forged", 50_000));
    const valid = await hmacSha256Hex(WEBHOOK_SECRET, raw);
    const attempts: [string, WebhookOptions][] = [
      [raw, { signature: "" }],
      [raw, { signature: "deadbeef" }],
      [raw, { signature: "f".repeat(64) }],
      [raw, { secret: KEY_SECRET }], // the original keyed webhooks with the API key secret
      [raw.replace('"amount":50000', '"amount":50001'), { signature: valid }],
      [`${raw} `, { signature: valid }],
    ];
    for (const [body, options] of attempts) {
      const res = await webhook(body, options);
      expect(res).toMatchObject({ status: 400, body: { error: "Invalid webhook signature" } });
    }
    const unsigned = await api("POST", "/api/payments/webhook/", { raw });
    expect(unsigned).toMatchObject({ status: 400, body: { error: "Invalid webhook signature" } });
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });

  it("rejects a validly signed body that is not JSON with a 400", async () => {
    const res = await webhook("event=payment.captured&not json", { headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(res).toMatchObject({ status: 400, body: { error: "Invalid webhook payload" } });
  });

  it("acknowledges and ignores unknown events and payloads without the fields it needs", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    const bodies = [
      { event: "payment.authorized", payload: { payment: { entity: { id: "pay_x", order_id: razorpayOrderId, amount: 50_000 } } } },
      { event: "payment.captured" },
      { event: "payment.captured", payload: { payment: {} } },
      { event: "refund.processed", payload: { refund: { entity: { id: "rfnd_x" } } } },
      [],
      "null",
      42,
    ];
    for (const body of bodies) {
      const res = await webhook(typeof body === "string" ? body : JSON.stringify(body));
      expect(res, JSON.stringify(body)).toMatchObject({ status: 200, body: { status: "ok" } });
    }
    expect(await orderState(order.id)).toEqual({ status: "pending", payment_status: "pending" });
  });

  it("settles on paid when verify and the capture webhook race, and concurrent redeliveries apply once", async () => {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    const event = paymentEvent("payment.captured", razorpayOrderId, paymentId, 50_000);
    const results = await Promise.all([
      verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id }),
      ...Array.from({ length: 4 }, () => webhook(event, { eventId: "evt_concurrent" })),
      webhook(paymentEvent("payment.failed", razorpayOrderId, "pay_other_attempt", 50_000)),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "success", razorpay_payment_id: paymentId });
    const events = await env.DB.prepare("SELECT count(*) AS n FROM webhook_events WHERE id = 'evt_concurrent'").first();
    expect(events).toEqual({ n: 1 });
  });

  it("answers 503 when no webhook secret is configured", async () => {
    const raw = JSON.stringify(paymentEvent("payment.captured", "order_x", "pay_x", 100));
    const res = await createApp().request(
      "https://shop.test/api/payments/webhook/",
      { method: "POST", headers: { "X-Razorpay-Signature": "a".repeat(64), "Content-Type": "application/json" }, body: raw },
      { ...env, RAZORPAY_WEBHOOK_SECRET: "" },
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "Payments are not configured" });
  });

  it("accepts events for unknown Razorpay orders without changing anything", async () => {
    const res = await webhook(paymentEvent("payment.captured", "order_unknown", "pay_unknown", 100));
    expect(res).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("needs no token and ignores a bad Authorization header", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    const res = await webhook(paymentEvent("payment.captured", razorpayOrderId, "pay_authz", 50_000), { headers: { Authorization: "Bearer garbage" } });
    expect(res.status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
  });

  it("marks a refunded payment on refund.processed", async () => {
    fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    await webhook(paymentEvent("payment.captured", razorpayOrderId, "pay_to_refund", 50_000));
    const partial = await webhook(refundEvent("pay_to_refund", razorpayOrderId, 10_000));
    expect(partial.status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
    const full = refundEvent("pay_to_refund", razorpayOrderId, 50_000);
    expect((await webhook(full)).status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "refunded" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "refunded", razorpay_refund_id: full.payload.refund.entity.id });
    // A capture event arriving after the refund does not bring the payment back.
    expect((await webhook(paymentEvent("order.paid", razorpayOrderId, "pay_to_refund", 50_000))).status).toBe(200);
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "refunded" });
  });

  it("refunds money captured for an order cancelled meanwhile; a gateway timeout leaves it owed and the sweep retries it", async () => {
    const fake = fakeRazorpay();
    const { order, razorpayOrderId } = await initiatedOrder();
    await env.DB.prepare("UPDATE orders SET status = 'cancelled' WHERE id = ?").bind(order.id).run();
    const event = paymentEvent("payment.captured", razorpayOrderId, "pay_late", 50_000);
    fake.payments.set("pay_late", { order_id: razorpayOrderId, amount: 50_000, status: "captured" });

    fake.failWith = () => new Response("upstream timeout", { status: 504 });
    const first = await webhook(event, { eventId: "evt_late_capture" });
    expect(first).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await orderState(order.id)).toEqual({ status: "cancelled", payment_status: "success" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "refund_pending", refund_attempts: 1 });

    fake.failWith = undefined;
    expect(await webhook(event, { eventId: "evt_late_capture" })).toMatchObject({ status: 200, body: { status: "ok" } });
    await runSweep(env, Date.now() + 3_600_000);
    expect(await orderState(order.id)).toEqual({ status: "cancelled", payment_status: "refunded" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "refunded", razorpay_payment_id: "pay_late", razorpay_refund_id: "rfnd_pay_late" });
    const refunds = fake.calls.filter((c) => c.path === "/v1/payments/pay_late/refund");
    expect(refunds).toHaveLength(2);
    expect(new Set(refunds.map((c) => c.headers.get("X-Refund-Idempotency")))).toEqual(new Set([`refund-${String(order.id).padStart(10, "0")}`]));
  });
});

describe("settleRefund (an owed refund, from a cancel, a late capture or the sweep)", () => {
  async function owedOrder() {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    const res = await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    expect(res.status).toBe(200);
    await env.DB.batch([
      env.DB.prepare("UPDATE orders SET status = 'cancelled' WHERE id = ?").bind(order.id),
      env.DB.prepare("UPDATE payments SET status = 'refund_pending' WHERE order_id = ?").bind(order.id),
    ]);
    return { fake, order, paymentId };
  }

  it("refunds in full through Razorpay once, however often it is called", async () => {
    const { fake, order, paymentId } = await owedOrder();
    expect(await settleRefund(env, db(env.DB), order.id)).toBe("refunded");
    expect(await settleRefund(env, db(env.DB), order.id)).toBe("refunded");
    const refunds = fake.calls.filter((c) => c.path.endsWith("/refund"));
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ method: "POST", path: `/v1/payments/${paymentId}/refund`, body: { notes: { order_id: String(order.id) } } });
    expect(refunds[0].body.amount).toBeUndefined(); // no amount = full refund
    expect(refunds[0].headers.get("X-Refund-Idempotency")).toBe(`refund-${String(order.id).padStart(10, "0")}`);
    expect(refunds[0].headers.get("Authorization")).toBe(`Basic ${btoa("rzp_test_key:test_key_secret")}`);
    expect(await paymentRow(order.id)).toMatchObject({ status: "refunded", razorpay_refund_id: `rfnd_${paymentId}` });
    expect(await orderState(order.id)).toEqual({ status: "cancelled", payment_status: "refunded" });
  });

  it("does nothing for an order that owes nothing", async () => {
    const fake = fakeRazorpay();
    const { order } = await initiatedOrder();
    const user = await registerUser("payer");
    const neverInitiated = await insertOrder(user, 10_000);
    expect(await settleRefund(env, db(env.DB), order.id)).toBe("none");
    expect(await settleRefund(env, db(env.DB), neverInitiated.id)).toBe("none");
    expect(fake.calls.filter((c) => c.path.endsWith("/refund"))).toHaveLength(0);
    expect(await paymentRow(order.id)).toMatchObject({ status: "initiated" });
  });

  it("keeps a refused refund owed, with the attempt and Razorpay's reason recorded", async () => {
    const { fake, order } = await owedOrder();
    fake.failWith = () => Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "The payment has been fully refunded already" } }, { status: 400 });
    expect(await settleRefund(env, db(env.DB), order.id)).toBe("pending");
    expect(await paymentRow(order.id)).toMatchObject({
      status: "refund_pending",
      refund_attempts: 1,
      razorpay_refund_id: null,
      refund_error: expect.stringContaining("fully refunded already"),
    });
    expect(await orderState(order.id)).toEqual({ status: "cancelled", payment_status: "success" });
  });
});

describe("admin cancelling a paid order (PATCH /api/orders/{id}/update_status/)", () => {
  async function paidOrder() {
    const fake = fakeRazorpay();
    const { user, order, razorpayOrderId } = await initiatedOrder();
    const { paymentId, signature } = await fake.pay(razorpayOrderId, 50_000);
    await verify(user, { razorpay_order_id: razorpayOrderId, razorpay_payment_id: paymentId, razorpay_signature: signature, order_id: order.id });
    return { fake, order, paymentId, admin: await createAdmin() };
  }

  it("refunds through Razorpay and marks the payment refunded", async () => {
    const { fake, order, paymentId, admin } = await paidOrder();
    const res = await api("PATCH", `/api/orders/${order.id}/update_status/`, { token: admin.access, body: { status: "cancelled" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: "cancelled", payment_status: "refunded", refund_status: "refunded" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "refunded", razorpay_refund_id: `rfnd_${paymentId}` });
    expect(fake.calls.filter((c) => c.path.endsWith("/refund"))).toHaveLength(1);
  });

  it("answers 502 and keeps the order paid when Razorpay refuses the refund (a 4xx)", async () => {
    const { fake, order, admin } = await paidOrder();
    fake.failWith = () => Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "Refund amount exceeds the payment" } }, { status: 400 });
    const res = await api("PATCH", `/api/orders/${order.id}/update_status/`, { token: admin.access, body: { status: "cancelled" } });
    expect(res).toMatchObject({ status: 502, body: { error: "Payment gateway error: Refund amount exceeds the payment" } });
    expect(await orderState(order.id)).toEqual({ status: "paid", payment_status: "success" });
    expect(await paymentRow(order.id)).toMatchObject({ status: "success" });
  });

  it("keeps the order cancelled with the refund pending when Razorpay's answer is a 500 (it may have refunded)", async () => {
    const { fake, order, admin } = await paidOrder();
    fake.failWith = () => new Response("", { status: 500 });
    const res = await api("PATCH", `/api/orders/${order.id}/update_status/`, { token: admin.access, body: { status: "cancelled" } });
    expect(res).toMatchObject({ status: 200, body: { status: "cancelled", payment_status: "success", refund_status: "refund_pending" } });
    expect(await paymentRow(order.id)).toMatchObject({ status: "refund_pending", refund_attempts: 1 });
  });
});

describe("OpenAPI", () => {
  it("documents the three payment routes and the webhook event", async () => {
    const res = await api("GET", "/openapi.json");
    for (const path of ["/api/payments/initiate/", "/api/payments/verify/", "/api/payments/webhook/"]) {
      expect(Object.keys(res.body.paths[path].post.responses)).toEqual(expect.arrayContaining(["200", "400", "502", "503"]));
    }
    expect(res.body.paths["/api/payments/webhook/"].post.security).toEqual([]);
    expect(res.body.paths["/api/payments/initiate/"].post.security).toEqual([{ Bearer: [] }]);
    expect(res.body.components.schemas.RazorpayWebhookEvent).toBeDefined();
  });
});

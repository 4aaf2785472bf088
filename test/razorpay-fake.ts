/**
 * Razorpay's API behind `fetch`, as the fault tests need it: orders, payments made with `pay()`, capture, and refunds
 * that honour `X-Refund-Idempotency` (the same key returns the first refund; a second refund of a fully refunded
 * payment is a 400), so a test can count the refunds Razorpay really made. Outbound calls go through `faults` when set,
 * so a crash plan can stop a flow at a Razorpay call too.
 */
import { vi } from "vitest";
import { hmacSha256Hex } from "../src/lib/crypto";
import type { Faults } from "./crash-harness";
import { unique } from "./helpers";

const KEY_SECRET = "test_key_secret";
export const WEBHOOK_SECRET = "test_webhook_secret";
const RAZORPAY = "https://api.razorpay.test";

interface FakePayment {
  order_id: string;
  amount: number;
  status: string;
  refunds: Map<string, string>;
}

export type RefundFailure = "refuse" | "server-error" | "timeout-after-refunding" | "throttled";

export function fakeRazorpay() {
  const fake = {
    payments: new Map<string, FakePayment>(),
    refundCalls: [] as Array<{ paymentId: string; key: string | null }>,
    faults: undefined as Faults | undefined,
    /** How the next refund calls fail (undefined: they succeed). */
    refundFailure: undefined as RefundFailure | undefined,
    async pay(razorpayOrderId: string, amount: number, status = "captured") {
      const paymentId = unique("pay_");
      fake.payments.set(paymentId, { order_id: razorpayOrderId, amount, status, refunds: new Map() });
      return { paymentId, signature: await hmacSha256Hex(KEY_SECRET, `${razorpayOrderId}|${paymentId}`) };
    },
    /** Refunds Razorpay really made for a payment (idempotent repeats not counted). */
    refundsMade(paymentId: string) {
      return new Set(fake.payments.get(paymentId)?.refunds.values()).size;
    },
  };
  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const body: any = req.method === "POST" ? await req.json() : undefined;
    if (req.method === "POST" && url.pathname === "/v1/orders") {
      return Response.json({ id: unique("order_"), entity: "order", amount: body.amount, currency: body.currency, receipt: body.receipt, status: "created" });
    }
    const match = /^\/v1\/payments\/([^/]+)(\/refund|\/capture)?$/.exec(url.pathname);
    const payment = match && fake.payments.get(match[1]);
    if (!match || !payment) return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "The id provided does not exist" } }, { status: 400 });
    const entity = () => Response.json({ id: match[1], entity: "payment", order_id: payment.order_id, amount: payment.amount, status: payment.status });
    if (req.method === "GET") return entity();
    if (match[2] === "/capture") {
      if (payment.status !== "authorized") return Response.json({ error: { description: "This payment has already been captured" } }, { status: 400 });
      payment.status = "captured";
      return entity();
    }
    const key = req.headers.get("X-Refund-Idempotency");
    fake.refundCalls.push({ paymentId: match[1], key });
    if (fake.refundFailure === "refuse") return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "The payment has been fully refunded already" } }, { status: 400 });
    if (fake.refundFailure === "server-error") return Response.json({ error: { description: "We are facing some trouble" } }, { status: 500 });
    if (fake.refundFailure === "throttled") return Response.json({ error: { description: "Too many requests" } }, { status: 429 });
    let refundId = key ? payment.refunds.get(key) : undefined;
    if (!refundId) {
      if (payment.refunds.size > 0) return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "The payment has been fully refunded already" } }, { status: 400 });
      refundId = unique("rfnd_");
      payment.refunds.set(key ?? refundId, refundId);
      payment.status = "refunded";
    }
    if (fake.refundFailure === "timeout-after-refunding") return new Response("upstream timeout", { status: 504 });
    return Response.json({ id: refundId, entity: "refund", amount: payment.amount, payment_id: match[1], status: "processed" });
  };
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (new URL(req.url).origin !== RAZORPAY) throw new Error(`unexpected fetch ${req.url}`);
    return fake.faults ? fake.faults.io(`fetch ${req.method} ${new URL(req.url).pathname}`, () => handle(req)) : handle(req);
  });
  return fake;
}

export type FakeRazorpay = ReturnType<typeof fakeRazorpay>;

/** A signed webhook delivery's body and headers for a payment event. */
export async function signedWebhook(event: "payment.captured" | "order.paid" | "payment.failed", razorpayOrderId: string, paymentId: string, amount: number) {
  const raw = JSON.stringify({
    entity: "event",
    event,
    contains: ["payment"],
    payload: { payment: { entity: { id: paymentId, entity: "payment", order_id: razorpayOrderId, amount, currency: "INR", status: "captured" } } },
    created_at: Math.floor(Date.now() / 1000),
  });
  return { raw, headers: { "X-Razorpay-Signature": await hmacSha256Hex(WEBHOOK_SECRET, raw), "x-razorpay-event-id": unique("evt_") } };
}

/** A signed `refund.processed` delivery for a full refund. */
export async function signedRefundWebhook(razorpayOrderId: string, paymentId: string, refundId: string, amount: number) {
  const raw = JSON.stringify({
    entity: "event",
    event: "refund.processed",
    contains: ["refund", "payment"],
    payload: {
      refund: { entity: { id: refundId, entity: "refund", amount, payment_id: paymentId, status: "processed" } },
      payment: { entity: { id: paymentId, order_id: razorpayOrderId, amount, status: "refunded" } },
    },
    created_at: Math.floor(Date.now() / 1000),
  });
  return { raw, headers: { "X-Razorpay-Signature": await hmacSha256Hex(WEBHOOK_SECRET, raw), "x-razorpay-event-id": unique("evt_") } };
}

/** A small stand-in for Razorpay's Orders and Payments APIs (outbound fetch stubbed; restore with vi.restoreAllMocks). */
import { vi } from "vitest";
import { hmacSha256Hex } from "../src/lib/crypto";
import { unique } from "./helpers";

const KEY_SECRET = "test_key_secret";

/** Razorpay's Orders and Payments APIs, enough for initiate and verify. */
export function fakeRazorpay() {
  const payments = new Map<string, { order_id: string; amount: number; status: string }>();
  let orders = 0;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (req.method === "POST" && url.pathname === "/v1/orders") {
      const body: any = await req.json();
      orders++;
      return Response.json({ id: unique("order_"), entity: "order", amount: body.amount, currency: body.currency, receipt: body.receipt, status: "created" });
    }
    const match = /^\/v1\/payments\/([^/]+)(\/capture)?$/.exec(url.pathname);
    const payment = match && payments.get(match[1]);
    if (!payment) return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "The id provided does not exist" } }, { status: 400 });
    return Response.json({ id: match[1], entity: "payment", ...payment });
  });
  return {
    ordersCreated: () => orders,
    async pay(razorpayOrderId: string, amount: number) {
      const paymentId = unique("pay_");
      payments.set(paymentId, { order_id: razorpayOrderId, amount, status: "captured" });
      return { razorpay_payment_id: paymentId, razorpay_signature: await hmacSha256Hex(KEY_SECRET, `${razorpayOrderId}|${paymentId}`) };
    },
  };
}

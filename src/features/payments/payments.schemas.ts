import { z } from "@hono/zod-openapi";
import { PAYMENT_STATUSES } from "../../db/schema";

const NOT_AN_INTEGER = "A valid integer is required.";

/**
 * DRF's IntegerField: numeric strings are accepted, anything else gets its message. Any integer passes here, so an id
 * that names none of the caller's orders gets the route's own "Order not found", as in the original.
 */
const orderId = z
  .preprocess(
    (value) => (typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number({ error: (issue) => (issue.input === undefined ? "This field is required." : NOT_AN_INTEGER) })
      .refine(Number.isSafeInteger, { message: NOT_AN_INTEGER, abort: true }),
  )
  .openapi({ type: "integer", example: 42 });
const razorpayId = (example: string) => z.string().trim().min(1).max(100).openapi({ example });

export const InitiateBody = z.object({ order_id: orderId }).openapi("PaymentInitiateRequest");

export const InitiateResponse = z
  .object({
    razorpay_order_id: z.string().openapi({ example: "order_Nq2mX8p1aB3cDe" }),
    razorpay_key_id: z.string().openapi({ example: "rzp_test_xxxx" }),
    amount: z.number().int().openapi({ description: "Amount in paise", example: 12990000 }),
    currency: z.string().openapi({ example: "INR" }),
    order_id: z.number().int(),
    order_number: z.string().openapi({ example: "ORD-1A2B3C4D5E6F" }),
  })
  .openapi("PaymentInitiateResponse");

export const VerifyBody = z
  .object({
    razorpay_order_id: razorpayId("order_Nq2mX8p1aB3cDe"),
    razorpay_payment_id: razorpayId("pay_Nq2nY9q2bC4dEf"),
    razorpay_signature: z.string().trim().min(1).max(200).openapi({ description: "Hex HMAC-SHA256 from Razorpay Checkout" }),
    order_id: orderId,
  })
  .openapi("PaymentVerifyRequest");

export const VerifyResponse = z
  .object({
    message: z.string().openapi({ example: "Payment verified successfully" }),
    order_number: z.string(),
    payment_status: z.enum(PAYMENT_STATUSES),
  })
  .openapi("PaymentVerifyResponse");

export const WebhookHeaders = z.object({
  "x-razorpay-signature": z.string().max(200).optional().openapi({ description: "Hex HMAC-SHA256 of the raw body, keyed with the webhook secret" }),
  "x-razorpay-event-id": z.string().max(200).optional().openapi({ description: "Unique per event; replays with a seen id are ignored" }),
});

export const WebhookAck = z.object({ status: z.literal("ok") }).openapi("WebhookAck");

const PaymentEntity = z.object({ id: z.string().min(1), order_id: z.string().min(1), amount: z.number().int() });
const RefundEntity = z.object({ id: z.string().min(1), payment_id: z.string().min(1), amount: z.number().int() });

/**
 * The Razorpay events we act on, with only the fields we use (Razorpay sends more). `order.paid` carries the same
 * payment entity as `payment.captured`. Anything else, or a payload without these fields, is acknowledged and ignored.
 */
export const WebhookEvent = z
  .discriminatedUnion("event", [
    z.object({
      event: z.enum(["payment.captured", "order.paid"]),
      payload: z.object({ payment: z.object({ entity: PaymentEntity }) }),
    }),
    z.object({
      event: z.literal("payment.failed"),
      payload: z.object({ payment: z.object({ entity: PaymentEntity }) }),
    }),
    z.object({
      event: z.literal("refund.processed"),
      payload: z.object({ refund: z.object({ entity: RefundEntity }) }),
    }),
  ])
  .openapi("RazorpayWebhookEvent");

export type WebhookEvent = z.infer<typeof WebhookEvent>;

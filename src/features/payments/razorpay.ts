/**
 * Razorpay's REST API over `fetch`, and its two signature checks: nothing else (no storage, no HTTP routing).
 * Every call authenticates with HTTP Basic (key id and secret), gives up after `TIMEOUT_MS`, and turns any failure
 * into a 502 carrying Razorpay's own description, never our keys.
 */
import { z } from "@hono/zod-openapi";
import { verifyHmacSha256Hex } from "../../lib/crypto";
import { ApiError, errorMessage } from "../../lib/errors";

/** Long enough for Razorpay's p99, short enough that a client retry still finds us answering. */
const TIMEOUT_MS = 8000;
const DEFAULT_API_BASE = "https://api.razorpay.com";

export const paymentsNotConfigured = () => errorMessage(503, "Payments are not configured");
/** A failed Razorpay call: a 502 to our client, carrying Razorpay's own HTTP status when it answered at all. */
export class GatewayError extends ApiError {
  constructor(
    reason: string,
    readonly upstreamStatus?: number,
  ) {
    super(502, { error: `Payment gateway error: ${reason}` });
  }
}

/**
 * Razorpay refused for good: a 4xx answer, except 409 (the same idempotent request is still in flight) and 429
 * (throttled). A timeout, a network error, a 5xx or an unreadable answer may hide a call that took effect.
 */
export function isDefiniteRefusal(err: unknown): boolean {
  if (!(err instanceof GatewayError) || err.upstreamStatus === undefined) return false;
  return err.upstreamStatus >= 400 && err.upstreamStatus < 500 && err.upstreamStatus !== 409 && err.upstreamStatus !== 429;
}

const RazorpayOrder = z.object({ id: z.string().min(1), amount: z.number().int(), currency: z.string() });
const RazorpayPayment = z.object({
  id: z.string().min(1),
  order_id: z.string().nullable(),
  amount: z.number().int(),
  status: z.string(),
});
const RazorpayRefund = z.object({ id: z.string().min(1), amount: z.number().int(), status: z.string() });
const RazorpayErrorBody = z.object({ error: z.object({ description: z.string().min(1) }) });

export type RazorpayPayment = z.infer<typeof RazorpayPayment>;

export interface RazorpayClient {
  keyId: string;
  keySecret: string;
  createOrder(input: { amountPaise: number; receipt: string; notes: Record<string, string> }): Promise<z.infer<typeof RazorpayOrder>>;
  /** Full refund. Razorpay answers a repeated `idempotencyKey` with the first refund instead of refunding twice. */
  refund(paymentId: string, idempotencyKey: string, notes: Record<string, string>): Promise<z.infer<typeof RazorpayRefund>>;
  fetchPayment(paymentId: string): Promise<RazorpayPayment>;
  /** Captures an `authorized` payment; `amount` must equal the authorized amount. Answers the captured payment. */
  capture(paymentId: string, amountPaise: number, currency: string): Promise<RazorpayPayment>;
}

/** The client for the configured keys; 503 when they are not set (the local default), so only payments are off. */
export function razorpayClient(env: Env): RazorpayClient {
  const { RAZORPAY_KEY_ID: keyId, RAZORPAY_KEY_SECRET: keySecret } = env;
  if (!keyId || !keySecret) throw paymentsNotConfigured();
  const base = env.RAZORPAY_API_BASE || DEFAULT_API_BASE;
  const authorization = `Basic ${btoa(`${keyId}:${keySecret}`)}`;

  async function call<T>(schema: z.ZodType<T>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { Authorization: authorization, ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw failed(path, err instanceof Error && err.name === "TimeoutError" ? "timed out" : "unreachable");
    }
    const payload: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const error = RazorpayErrorBody.safeParse(payload);
      throw failed(path, error.success ? error.data.error.description.slice(0, 200) : `HTTP ${res.status}`, res.status);
    }
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw failed(path, "unexpected response", res.status);
    return parsed.data;
  }

  return {
    keyId,
    keySecret,
    createOrder: ({ amountPaise, receipt, notes }) =>
      call(RazorpayOrder, "POST", "/v1/orders", { amount: amountPaise, currency: "INR", receipt, notes }),
    refund: (paymentId, idempotencyKey, notes) =>
      call(RazorpayRefund, "POST", `/v1/payments/${encodeURIComponent(paymentId)}/refund`, { notes }, {
        "X-Refund-Idempotency": idempotencyKey,
      }),
    fetchPayment: (paymentId) => call(RazorpayPayment, "GET", `/v1/payments/${encodeURIComponent(paymentId)}`),
    capture: (paymentId, amountPaise, currency) =>
      call(RazorpayPayment, "POST", `/v1/payments/${encodeURIComponent(paymentId)}/capture`, { amount: amountPaise, currency }),
  };
}

function failed(path: string, reason: string, status?: number) {
  console.error(JSON.stringify({ level: "error", msg: "razorpay call failed", path, status, reason }));
  return new GatewayError(reason, status);
}

/** Checkout's signature: hex HMAC-SHA256 of `order_id|payment_id` with the key secret, compared in constant time. */
export function verifyPaymentSignature(keySecret: string, razorpayOrderId: string, razorpayPaymentId: string, signature: string) {
  return verifyHmacSha256Hex(keySecret, `${razorpayOrderId}|${razorpayPaymentId}`, signature);
}

/** A webhook's `X-Razorpay-Signature`: hex HMAC-SHA256 of the body bytes exactly as received, with the webhook secret. */
export function verifyWebhookSignature(webhookSecret: string, rawBody: ArrayBuffer, signature: string) {
  return verifyHmacSha256Hex(webhookSecret, rawBody, signature);
}

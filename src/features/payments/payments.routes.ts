import { createRoute } from "@hono/zod-openapi";
import { IdempotencyHeaders } from "../../lib/idempotency";
import { bearerSecurity, errors, failure, gatewayResponses, json, jsonBody, publicSecurity } from "../../lib/openapi";
import { requireUser } from "../../middleware/auth";
import { InitiateBody, InitiateResponse, VerifyBody, VerifyResponse, WebhookAck, WebhookHeaders } from "./payments.schemas";

const tags = ["Payments"];
const authed = { security: bearerSecurity, middleware: requireUser };

export const initiateRoute = createRoute({
  method: "post",
  path: "/initiate/",
  operationId: "initiatePayment",
  tags,
  summary: "Start paying one of the caller's orders: creates (or reuses) its Razorpay order; Idempotency-Key supported",
  ...authed,
  request: { headers: IdempotencyHeaders, ...jsonBody(InitiateBody) },
  responses: {
    200: json(InitiateResponse, "Razorpay order to open Checkout with"),
    ...errors(401, 404, 409, 422),
    400: failure(400, "fields", "error"),
    ...gatewayResponses,
  },
});

export const verifyRoute = createRoute({
  method: "post",
  path: "/verify/",
  operationId: "verifyPayment",
  tags,
  summary: "Confirm a Checkout payment with its signature; marks the order paid (safe to repeat)",
  ...authed,
  request: jsonBody(VerifyBody),
  responses: {
    200: json(VerifyResponse, "Payment recorded"),
    ...errors(401),
    400: failure(400, "fields", "error"),
    404: failure(404, "error"),
    ...gatewayResponses,
  },
});

/**
 * Razorpay calls this, so no token. The body is declared by reference only: a zod schema here would make the
 * validator parse it, and the signature must be checked over the exact bytes before anything reads them as JSON.
 */
export const webhookRoute = createRoute({
  method: "post",
  path: "/webhook/",
  operationId: "receiveRazorpayWebhook",
  tags,
  summary: "Razorpay webhook: payment.captured, order.paid, payment.failed, refund.processed (each event applied once)",
  security: publicSecurity,
  request: {
    headers: WebhookHeaders,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: {
            description: "A signed Razorpay event. The events acted on are `RazorpayWebhookEvent`; any other signed JSON is acknowledged and ignored.",
            anyOf: [{ $ref: "#/components/schemas/RazorpayWebhookEvent" }, { description: "Any other event or payload" }],
          },
        },
      },
    },
  },
  responses: { 200: json(WebhookAck, "Applied, or ignored (duplicate or unhandled event)"), ...gatewayResponses, 400: failure(400, "error") },
});

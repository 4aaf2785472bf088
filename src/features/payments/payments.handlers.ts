import { withIdempotencyKey } from "../../lib/idempotency";
import type { Handler } from "../../lib/openapi";
import { currentUser } from "../../middleware/auth";
import type * as routes from "./payments.routes";
import { initiatePayment, verifyPayment } from "./payments.service";
import { handleRazorpayWebhook } from "./webhook.service";

export const initiate: Handler<typeof routes.initiateRoute> = async (c) => {
  const { order_id } = c.req.valid("json");
  const userId = currentUser(c).id;
  const body = await withIdempotencyKey(
    c,
    { userId, scope: "payment_initiate", key: c.req.valid("header")["idempotency-key"] },
    () => ({ request: JSON.stringify({ order_id }) }),
    async () => ({ status: 200, body: await initiatePayment(c.env, c.get("db"), userId, order_id) }),
  );
  return c.json(body, 200);
};

export const verify: Handler<typeof routes.verifyRoute> = async (c) => {
  return c.json(await verifyPayment(c.env, c.get("db"), currentUser(c).id, c.req.valid("json")), 200);
};

export const webhook: Handler<typeof routes.webhookRoute> = async (c) => {
  const headers = c.req.valid("header");
  await handleRazorpayWebhook(c.env, c.get("db"), {
    // The bytes exactly as sent: the signature covers them, not a re-encoding of parsed JSON.
    rawBody: await c.req.arrayBuffer(),
    signature: headers["x-razorpay-signature"],
    eventId: headers["x-razorpay-event-id"],
  });
  return c.json({ status: "ok" as const }, 200);
};

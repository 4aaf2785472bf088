/**
 * Razorpay webhooks, applied exactly once. Razorpay delivers at least once, retries any non-2xx for 24 hours and
 * does not keep order, so: the signature is checked over the raw bytes before anything parses them; each event's
 * state change and the record of its id are one atomic D1 batch, guarded so a seen id changes nothing; and every
 * update only moves state forward (a late `payment.failed` never undoes a success).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { orders, payments, REFUND_OWED_STATUSES, webhookEvents } from "../../db/schema";
import { sha256Hex } from "../../lib/crypto";
import { errorMessage, isUniqueViolation } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { WebhookEvent } from "./payments.schemas";
import { logError } from "../../lib/log";
import { markOrderPaid, PAYABLE_PAYMENT } from "./payments.service";
import { REFUND_LEASE_MS, settleRefund } from "./refunds.service";
import { paymentsNotConfigured, verifyWebhookSignature } from "./razorpay";

export interface WebhookDelivery {
  rawBody: ArrayBuffer;
  signature: string | undefined;
  /** `x-razorpay-event-id`; without it the body's hash identifies the event (a replay is byte-identical). */
  eventId: string | undefined;
}

export async function handleRazorpayWebhook(env: Env, db: Database, delivery: WebhookDelivery): Promise<void> {
  if (!env.RAZORPAY_WEBHOOK_SECRET) throw paymentsNotConfigured();
  const signed = await verifyWebhookSignature(env.RAZORPAY_WEBHOOK_SECRET, delivery.rawBody, delivery.signature ?? "");
  if (!signed) throw errorMessage(400, "Invalid webhook signature");

  const text = new TextDecoder().decode(delivery.rawBody);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw errorMessage(400, "Invalid webhook payload");
  }
  const parsed = WebhookEvent.safeParse(body);
  if (!parsed.success) return; // unhandled events, and payloads without the fields we use: acknowledged, ignored
  const event = parsed.data;
  const eventId = delivery.eventId || (await sha256Hex(text));

  switch (event.event) {
    case "payment.captured":
    case "order.paid":
      return applyCapture(env, db, eventId, event.event, event.payload.payment.entity, text);
    case "payment.failed":
      return applyFailure(db, eventId, event.payload.payment.entity.order_id, text);
    case "refund.processed":
      return applyRefund(db, eventId, event.payload.refund.entity);
  }
}

/**
 * Each handler runs its updates and the insert of the event id in one batch, and every update carries this guard.
 * A batch is a single transaction, so the guard and the insert cannot interleave with a concurrent delivery of the
 * same event: exactly one of them changes anything, and a replay finds the id and changes nothing.
 */
function notYetApplied(eventId: string) {
  return sql`not exists (select 1 from ${webhookEvents} where ${webhookEvents.id} = ${eventId})`;
}

function recordEvent(db: Database, eventId: string, event: string) {
  return db.insert(webhookEvents).values({ id: eventId, event }).onConflictDoNothing();
}

const orderOfRazorpayOrder = (db: Database, razorpayOrderId: string) =>
  inArray(orders.id, db.select({ id: payments.orderId }).from(payments).where(eq(payments.razorpayOrderId, razorpayOrderId)));

/**
 * Found by Razorpay order id (the original looked for a payment id only verify stores, so a payment whose client
 * never called verify was lost). Money captured for an order cancelled meanwhile is recorded as owed back
 * (`refund_pending`) in the same batch as the event, then refunded; a refund that cannot be done now stays owed and
 * the sweep retries it. The delivery is answered 2xx once recorded: a refusal must never make the event a poison
 * pill that Razorpay retries for 24 hours and then disables the whole webhook over.
 */
async function applyCapture(
  env: Env,
  db: Database,
  eventId: string,
  event: string,
  payment: { id: string; order_id: string },
  rawBody: string,
) {
  const guard = notYetApplied(eventId);
  const cancelled = sql`exists (select 1 from ${orders} where ${orders.id} = ${payments.orderId} and ${orders.status} = 'cancelled')`;
  try {
    await db.batch([
      db
        .update(payments)
        .set({
          status: sql`case when ${cancelled} then 'refund_pending' else 'success' end`,
          refundNextAt: sql`case when ${cancelled} then ${Date.now() + REFUND_LEASE_MS} else null end`,
          razorpayPaymentId: payment.id,
          gatewayResponse: rawBody,
          updatedAt: nowIso(),
        })
        .where(and(eq(payments.razorpayOrderId, payment.order_id), inArray(payments.status, PAYABLE_PAYMENT), guard)),
      markOrderPaid(db, and(orderOfRazorpayOrder(db, payment.order_id), guard)!, { excludeCancelled: false }),
      recordEvent(db, eventId, event),
    ]);
  } catch (err) {
    if (!isUniqueViolation(err, "razorpay_payment_id")) throw err;
    // The payment id is already stored on another order: nothing a retry could fix, so acknowledge and flag it.
    console.error(JSON.stringify({ level: "error", msg: "captured payment already recorded on another order", eventId }));
    return;
  }
  const stored = await db.query.payments.findFirst({ where: eq(payments.razorpayOrderId, payment.order_id) });
  if (stored?.status !== "refund_pending" || stored.refundAttempts > 0) return;
  // Best effort: whatever happens here, the obligation is recorded and the sweep finishes it.
  await settleRefund(env, db, stored.orderId).catch((err) => logError("refund after capture not settled", err, { orderId: stored.orderId }));
}

/** Only a payment still in progress fails; a success (or refund) stays, whatever order the events arrive in. */
async function applyFailure(db: Database, eventId: string, razorpayOrderId: string, rawBody: string) {
  const guard = notYetApplied(eventId);
  await db.batch([
    db
      .update(payments)
      .set({ status: "failed", gatewayResponse: rawBody, updatedAt: nowIso() })
      .where(and(eq(payments.razorpayOrderId, razorpayOrderId), eq(payments.status, "initiated"), guard)),
    db
      .update(orders)
      .set({ status: "payment_failed", paymentStatus: "failed", updatedAt: nowIso() })
      .where(and(orderOfRazorpayOrder(db, razorpayOrderId), eq(orders.status, "pending"), eq(orders.paymentStatus, "pending"), guard)),
    recordEvent(db, eventId, "payment.failed"),
  ]);
}

/** Captured money, or money owed back: a confirmed refund settles either. */
const REFUNDABLE = ["success", ...REFUND_OWED_STATUSES] as const;

/** A full refund of a recorded payment (we never issue partial ones; a partial refund leaves the payment `success`). */
async function applyRefund(db: Database, eventId: string, refund: { id: string; payment_id: string; amount: number }) {
  const guard = notYetApplied(eventId);
  const refundedPayment = and(eq(payments.razorpayPaymentId, refund.payment_id), sql`${payments.amountPaise} <= ${refund.amount}`);
  await db.batch([
    db
      .update(orders)
      .set({ paymentStatus: "refunded", updatedAt: nowIso() })
      .where(
        and(
          inArray(orders.id, db.select({ id: payments.orderId }).from(payments).where(and(refundedPayment, inArray(payments.status, REFUNDABLE)))),
          eq(orders.paymentStatus, "success"),
          guard,
        ),
      ),
    db
      .update(payments)
      .set({ status: "refunded", razorpayRefundId: sql`coalesce(${payments.razorpayRefundId}, ${refund.id})`, refundNextAt: null, updatedAt: nowIso() })
      .where(and(refundedPayment, inArray(payments.status, REFUNDABLE), guard)),
    recordEvent(db, eventId, "refund.processed"),
  ]);
}

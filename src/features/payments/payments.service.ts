/**
 * Paying for an order through Razorpay: initiate, verify, refund. Invariants: one payment row per order; order
 * state only moves forward (pending|payment_failed -> paid, never back); a cancelled order never becomes paid
 * (money captured for one is refunded, see webhook.service.ts); every write that must agree with another goes in one D1 batch with WHERE clauses that re-check the state.
 */
import { and, eq, inArray, ne, type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { orders, payments, REFUND_OWED_STATUSES, UNPAID_ORDER_STATUSES, type Order, type Payment } from "../../db/schema";
import { errorMessage, fieldError, isUniqueViolation } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { logError } from "../../lib/log";
import { REFUND_LEASE_MS, settleRefund } from "./refunds.service";
import { razorpayClient, verifyPaymentSignature, type RazorpayClient, type RazorpayPayment } from "./razorpay";

/** Payment rows that may still become `success`: a failed attempt can be retried on the same Razorpay order (India). */
export const PAYABLE_PAYMENT = ["initiated", "failed"] as const;

export interface InitiatedPayment {
  razorpay_order_id: string;
  razorpay_key_id: string;
  amount: number;
  currency: string;
  order_id: number;
  order_number: string;
}

/**
 * Returns the Razorpay order to pay `orderId` with. A payable row for the same amount is reused, so repeated clicks
 * (and the webhooks of earlier attempts) all point at one Razorpay order; otherwise a new one is created and stored.
 */
export async function initiatePayment(env: Env, db: Database, userId: number, orderId: number): Promise<InitiatedPayment> {
  const razorpay = razorpayClient(env);
  const order = await db.query.orders.findFirst({ where: and(eq(orders.id, orderId), eq(orders.userId, userId)) });
  if (!order) throw fieldError("order_id", "Order not found");
  assertPayable(order);
  const response = (payment: Payment) => ({
    razorpay_order_id: payment.razorpayOrderId!,
    razorpay_key_id: razorpay.keyId,
    amount: payment.amountPaise,
    currency: payment.currency,
    order_id: order.id,
    order_number: order.orderNumber,
  });

  const existing = await db.query.payments.findFirst({ where: eq(payments.orderId, order.id) });
  if (existing && isReusable(existing, order)) return response(existing);

  const created = await razorpay.createOrder({
    amountPaise: order.totalPaise,
    receipt: order.orderNumber,
    notes: { order_id: String(order.id), order_number: order.orderNumber },
  });
  // The first stored Razorpay order wins a race between two clicks; a paid row is never overwritten.
  const [stored] = await db
    .insert(payments)
    .values({ orderId: order.id, razorpayOrderId: created.id, amountPaise: order.totalPaise, currency: "INR" })
    .onConflictDoUpdate({
      target: payments.orderId,
      set: { razorpayOrderId: created.id, amountPaise: order.totalPaise, status: "initiated", updatedAt: nowIso() },
      setWhere: sql`${payments.status} in ${PAYABLE_PAYMENT} and (${payments.razorpayOrderId} is null or ${payments.amountPaise} != ${order.totalPaise})`,
    })
    .returning();
  if (stored) return response(stored);
  const winner = await db.query.payments.findFirst({ where: eq(payments.orderId, order.id) });
  if (winner && isReusable(winner, order)) return response(winner);
  throw fieldError("order_id", "Order already paid");
}

function assertPayable(order: Order) {
  if (order.paymentStatus === "success") throw fieldError("order_id", "Order already paid");
  if (order.status === "cancelled") throw fieldError("order_id", "Cannot pay for cancelled order");
  if (order.paymentStatus === "refunded") throw fieldError("order_id", "Order already paid");
}

function isReusable(payment: Payment, order: Order) {
  return (
    payment.razorpayOrderId !== null &&
    payment.amountPaise === order.totalPaise &&
    (PAYABLE_PAYMENT as readonly string[]).includes(payment.status)
  );
}

export interface VerifyInput {
  razorpay_order_id: string;
  razorpay_payment_id: string;
  razorpay_signature: string;
  order_id: number;
}

/**
 * Records a Checkout payment. The signature must be over the Razorpay order stored for THIS order (the original
 * accepted any valid triple, so a cheap order's payment could mark an expensive one paid), and Razorpay must
 * confirm the payment is for that order and amount. Repeating a successful verify answers the same.
 */
export async function verifyPayment(env: Env, db: Database, userId: number, input: VerifyInput) {
  const razorpay = razorpayClient(env);
  const order = await db.query.orders.findFirst({ where: and(eq(orders.id, input.order_id), eq(orders.userId, userId)) });
  if (!order) throw errorMessage(404, "Order not found");
  const payment = await db.query.payments.findFirst({ where: eq(payments.orderId, order.id) });
  if (!payment?.razorpayOrderId) throw errorMessage(404, "Payment record not found");

  const signed =
    input.razorpay_order_id === payment.razorpayOrderId &&
    (await verifyPaymentSignature(razorpay.keySecret, payment.razorpayOrderId, input.razorpay_payment_id, input.razorpay_signature));
  if (!signed) throw errorMessage(400, "Invalid payment signature");

  const verified = { message: "Payment verified successfully", order_number: order.orderNumber };
  if (isRecorded(payment, input.razorpay_payment_id)) return { ...verified, payment_status: order.paymentStatus };
  assertNotPaidOrCancelled(order, payment);

  const gateway = await capturedPayment(razorpay, input.razorpay_payment_id, payment);
  if (!gateway) throw errorMessage(400, "Payment not confirmed by the gateway");

  const applied = await recordPaymentSuccess(env, db, payment, input.razorpay_payment_id, {
    razorpaySignature: input.razorpay_signature,
    gatewayResponse: JSON.stringify(gateway),
  });
  if (applied) return { ...verified, payment_status: "success" as const };
  // Someone else changed the order between our read and the batch (a concurrent verify, webhook or cancel).
  const [latestOrder, latestPayment] = await Promise.all([
    db.query.orders.findFirst({ where: eq(orders.id, order.id) }),
    db.query.payments.findFirst({ where: eq(payments.id, payment.id) }),
  ]);
  if (latestOrder && latestPayment && isRecorded(latestPayment, input.razorpay_payment_id)) {
    return { ...verified, payment_status: latestOrder.paymentStatus };
  }
  assertNotPaidOrCancelled(latestOrder ?? order, latestPayment ?? payment);
  throw errorMessage(400, "Payment could not be recorded");
}

/**
 * The gateway's payment once its money is captured, or null when it is not a payment of this order's Razorpay order
 * and amount, or not capturable. Only `captured` money marks an order paid: an `authorized` payment (auto-capture off
 * or still running) is captured here for the order's amount and currency first. A capture that fails because
 * auto-capture won the race is fine: the payment is fetched again.
 */
async function capturedPayment(razorpay: RazorpayClient, paymentId: string, payment: Payment): Promise<RazorpayPayment | null> {
  const ofThisOrder = (p: RazorpayPayment) => p.order_id === payment.razorpayOrderId && p.amount === payment.amountPaise;
  const gateway = await razorpay.fetchPayment(paymentId);
  if (!ofThisOrder(gateway)) return null;
  if (gateway.status === "captured") return gateway;
  if (gateway.status !== "authorized") return null;
  const captured = await razorpay.capture(paymentId, payment.amountPaise, payment.currency).catch(async (err) => {
    const again = await razorpay.fetchPayment(paymentId);
    if (again.status === "captured") return again;
    throw err;
  });
  return ofThisOrder(captured) && captured.status === "captured" ? captured : null;
}

/** This very payment was already recorded as successful (and maybe refunded since). */
function isRecorded(payment: Payment, razorpayPaymentId: string) {
  return payment.razorpayPaymentId === razorpayPaymentId && ["success", "refunded", ...REFUND_OWED_STATUSES].includes(payment.status);
}

function assertNotPaidOrCancelled(order: Order, payment: Payment) {
  if (order.paymentStatus === "success" || order.paymentStatus === "refunded" || payment.status === "success")
    throw errorMessage(400, "Order already paid");
  if (order.status === "cancelled") throw errorMessage(400, "Cannot pay for cancelled order");
}

/**
 * Marks a payable payment `success` and its order paid, atomically; if the order was cancelled meanwhile, the payment
 * is recorded as owed back (refunded now, or by the sweep) and the verify is refused. Returns false when nothing changed. A payment id already stored on another order is a 400, not a 500.
 */
async function recordPaymentSuccess(
  env: Env,
  db: Database,
  payment: Payment,
  razorpayPaymentId: string,
  details: { razorpaySignature: string; gatewayResponse: string },
): Promise<boolean> {
  const updatedAt = nowIso();
  const cancelled = sql`exists (select 1 from ${orders} where ${orders.id} = ${payment.orderId} and ${orders.status} = 'cancelled')`;
  try {
    const [paid] = await db.batch([
      db
        .update(payments)
        .set({
          // Money this verify captured for an order cancelled meanwhile is recorded as owed back, in this same write.
          status: sql`case when ${cancelled} then 'refund_pending' else 'success' end`,
          refundNextAt: sql`case when ${cancelled} then ${Date.now() + REFUND_LEASE_MS} else null end`,
          razorpayPaymentId,
          ...details,
          updatedAt,
        })
        .where(and(eq(payments.id, payment.id), inArray(payments.status, PAYABLE_PAYMENT)))
        .returning({ id: payments.id, status: payments.status }),
      markOrderPaid(db, eq(orders.id, payment.orderId), { excludeCancelled: false }),
    ]);
    if (paid[0]?.status === "refund_pending") {
      await settleRefund(env, db, payment.orderId).catch((err) => logError("refund after verify not settled", err, { orderId: payment.orderId }));
      throw errorMessage(400, "Cannot pay for cancelled order");
    }
    return paid.length === 1;
  } catch (err) {
    if (isUniqueViolation(err, "razorpay_payment_id")) throw errorMessage(400, "Payment already recorded for another order");
    throw err;
  }
}

/**
 * The order half of a successful payment: payment_status `success`, and status `paid` if it was still awaiting
 * payment. Only from pending|failed payment status, so a refunded or already-paid order is left alone.
 */
export function markOrderPaid(db: Database, which: SQL, { excludeCancelled }: { excludeCancelled: boolean }) {
  return db
    .update(orders)
    .set({
      paymentStatus: "success",
      status: sql`case when ${orders.status} in ${UNPAID_ORDER_STATUSES} then 'paid' else ${orders.status} end`,
      updatedAt: nowIso(),
    })
    .where(
      and(which, inArray(orders.paymentStatus, ["pending", "failed"]), excludeCancelled ? ne(orders.status, "cancelled") : undefined),
    );
}

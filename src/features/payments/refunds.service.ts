/**
 * Refunds we owe, kept as an obligation until Razorpay confirms them.
 *
 * Invariants: the obligation (payment `refund_pending`) is written in the same D1 batch as the change that makes us
 * owe the money (an admin cancelling a paid order, a capture landing on a cancelled order), so no Worker death can
 * separate them. Every refund call for an order carries the same Razorpay idempotency key (`refund-<order id>`), so
 * a retry after a lost answer returns the first refund instead of making a second. Only a definite refusal (a
 * Razorpay 4xx) may put an order back to where it was, and only while no refund was ever attempted for it before;
 * an ambiguous answer (timeout, network error, 5xx) leaves the order `cancelled` with the refund pending, retried by
 * the sweep with back-off until Razorpay confirms (or `refund_failed` after MAX_REFUND_ATTEMPTS, shown to admins).
 */
import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { orders, payments, REFUND_OWED_STATUSES, type OrderStatus } from "../../db/schema";
import { logError } from "../../lib/log";
import { nowIso } from "../../lib/time";
import { isDefiniteRefusal, razorpayClient } from "./razorpay";

/**
 * How long the request that wrote an obligation has to settle it before the sweep may: longer than a Razorpay call
 * may take (8 s) plus the writes around it, so a refusal can still put the order back before anyone restocks it.
 */
export const REFUND_LEASE_MS = 30_000;
/** Refund calls before an obligation becomes `refund_failed` (about 10 hours of back-off, see `refundBackoffMs`). */
export const MAX_REFUND_ATTEMPTS = 8;

/** Wait after the n-th failed attempt: 5 min, 10, 20, ... capped at 3 hours (the sweep runs every 5 minutes). */
export const refundBackoffMs = (attempts: number) => Math.min(5 * 60_000 * 2 ** Math.max(0, attempts - 1), 3 * 3_600_000);

/** Razorpay wants idempotency keys of at least 10 characters; zero-padding keeps `refund-<orderId>` readable. */
export const refundIdempotencyKey = (orderId: number) => `refund-${String(orderId).padStart(10, "0")}`;

/**
 * The statement that records a refund obligation for a cancelled order whose payment was captured. Goes in the same
 * batch as the cancel; `dueAt` is when the sweep may settle it (now + REFUND_LEASE_MS for a request that tries first).
 */
export function oweRefund(db: Database, orderId: number, dueAt: number) {
  return db
    .update(payments)
    .set({ status: "refund_pending", refundAttempts: 0, refundNextAt: dueAt, refundError: null, updatedAt: nowIso() })
    .where(
      and(
        eq(payments.orderId, orderId),
        eq(payments.status, "success"),
        sql`exists (select 1 from ${orders} where ${orders.id} = ${orderId} and ${orders.status} = 'cancelled')`,
      ),
    );
}

export type RefundOutcome = "refunded" | "pending" | "none";

/**
 * Asks Razorpay for an owed refund of `orderId` and records the answer. `putBackTo`: the status the order had before
 * this request cancelled it; with it, a definite refusal puts the order (and its payment) back and the refusal is
 * thrown (a 502 the admin sees). Without it (the sweep, a webhook) a refusal is an attempt like any other failure.
 * Returns "refunded" once confirmed, "pending" while owed, "none" when nothing is owed.
 */
export async function settleRefund(env: Env, db: Database, orderId: number, putBackTo?: OrderStatus): Promise<RefundOutcome> {
  const payment = await db.query.payments.findFirst({ where: eq(payments.orderId, orderId) });
  if (payment?.status === "refunded") return "refunded";
  if (!payment || !(REFUND_OWED_STATUSES as readonly string[]).includes(payment.status) || !payment.razorpayPaymentId) return "none";
  let refundId: string;
  try {
    const refund = await razorpayClient(env).refund(payment.razorpayPaymentId, refundIdempotencyKey(orderId), { order_id: String(orderId) });
    refundId = refund.id;
  } catch (err) {
    if (putBackTo && payment.refundAttempts === 0 && isDefiniteRefusal(err) && (await putBack(db, orderId, putBackTo))) throw err;
    const attempts = payment.refundAttempts + 1;
    const failed = attempts >= MAX_REFUND_ATTEMPTS;
    await db
      .update(payments)
      .set({
        status: failed ? "refund_failed" : "refund_pending",
        refundAttempts: attempts,
        refundNextAt: Date.now() + refundBackoffMs(attempts),
        refundError: err instanceof Error ? err.message.slice(0, 300) : String(err),
        updatedAt: nowIso(),
      })
      .where(and(eq(payments.id, payment.id), inArray(payments.status, REFUND_OWED_STATUSES)));
    logError(failed ? "refund failed for good: an admin must settle it" : "refund not settled, will retry", err, { orderId, attempts });
    return "pending";
  }
  await recordRefunded(db, orderId, refundId);
  return "refunded";
}

/** Marks the order's owed (or still captured) payment refunded, and the order's payment status with it. */
export function recordRefunded(db: Database, orderId: number, refundId: string) {
  return db.batch([
    db
      .update(payments)
      .set({ status: "refunded", razorpayRefundId: sql`coalesce(${payments.razorpayRefundId}, ${refundId})`, refundNextAt: null, updatedAt: nowIso() })
      .where(and(eq(payments.orderId, orderId), inArray(payments.status, ["success", ...REFUND_OWED_STATUSES]))),
    db
      .update(orders)
      .set({ paymentStatus: "refunded", updatedAt: nowIso() })
      .where(and(eq(orders.id, orderId), eq(orders.paymentStatus, "success"))),
  ]);
}

/**
 * Undoes this request's cancel after Razorpay refused the refund for good: the payment is captured again and the order
 * back at `to`. Only while the obligation was never attempted and the order's units were never restocked (the sweep
 * waits REFUND_LEASE_MS before touching it), so a put-back order always still has its units sold.
 */
async function putBack(db: Database, orderId: number, to: OrderStatus): Promise<boolean> {
  const [payment] = await db.batch([
    db
      .update(payments)
      .set({ status: "success", refundNextAt: null, updatedAt: nowIso() })
      .where(
        and(
          eq(payments.orderId, orderId),
          eq(payments.status, "refund_pending"),
          eq(payments.refundAttempts, 0),
          sql`exists (select 1 from ${orders} where ${orders.id} = ${orderId} and ${orders.status} = 'cancelled' and ${orders.restockedAt} is null)`,
        ),
      )
      .returning({ id: payments.id }),
    db
      .update(orders)
      .set({ status: to, updatedAt: nowIso() })
      .where(
        and(
          eq(orders.id, orderId),
          eq(orders.status, "cancelled"),
          sql`${orders.restockedAt} is null`,
          sql`exists (select 1 from ${payments} where ${payments.orderId} = ${orderId} and ${payments.status} = 'success')`,
        ),
      ),
  ]);
  return payment.length === 1;
}

/**
 * The sweep's part: records obligations no request wrote (a cancelled order whose payment shows captured, e.g. from
 * before this code), then settles up to `limit` obligations that are due. Returns how many were confirmed refunded.
 */
export async function settleDueRefunds(env: Env, db: Database, limit: number, now = Date.now()): Promise<number> {
  await db
    .update(payments)
    .set({ status: "refund_pending", refundAttempts: 0, refundNextAt: now, updatedAt: nowIso() })
    .where(and(eq(payments.status, "success"), sql`${payments.orderId} in (select ${orders.id} from ${orders} where ${orders.status} = 'cancelled')`));
  const due = await db
    .select({ orderId: payments.orderId })
    .from(payments)
    .where(and(eq(payments.status, "refund_pending"), lte(payments.refundNextAt, now)))
    .orderBy(asc(payments.refundNextAt))
    .limit(limit);
  const settled = await Promise.allSettled(due.map(({ orderId }) => settleRefund(env, db, orderId)));
  for (const [i, s] of settled.entries()) if (s.status === "rejected") logError("refund sweep failed", s.reason, { orderId: due[i].orderId });
  return settled.filter((s) => s.status === "fulfilled" && s.value === "refunded").length;
}

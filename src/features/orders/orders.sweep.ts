/**
 * The sweep's share of the order lifecycle, bounded by I/O calls rather than by orders: an order of 100 lines costs
 * 100 inventory object calls to restock, so a run takes whole orders until its object-call budget is spent and
 * leaves the rest, in id order, to the next run (every 5 minutes). Each run makes progress (an order has at most
 * MAX_CART_LINES lines, well under the budget) and everything is idempotent: status flips are compare-and-set,
 * restock is once per hold key in each object, `restocked_at` is set only once every line is back.
 */
import { and, asc, eq, inArray, isNull, lt, ne, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { orderItems, orders, payments, UNPAID_ORDER_STATUSES } from "../../db/schema";
import { productStock } from "../../inventory/inventory.client";
import { logError } from "../../lib/log";
import { nowIso } from "../../lib/time";

/** Inventory object calls one sweep run may make to restock cancelled orders. */
export const RESTOCK_CALLS_PER_RUN = 1_000;
/** Unpaid orders one run may expire (one D1 statement flips them all; their restock then shares the budget above). */
export const EXPIRE_PER_RUN = 500;
/** Cancelled orders looked at per run, at most (bounds the item read: one D1 query per 100 orders). */
const UNFINISHED_PER_RUN = 200;

/**
 * Cancels up to `limit` unpaid orders created before `cutoffIso`, in one compare-and-set statement (a payment that
 * landed meanwhile keeps its order). Their units go back through `finishCancellations`, within its budget. A payment
 * captured afterwards is recorded as owed back by the webhook.
 */
export async function expireUnpaidOrders(db: Database, cutoffIso: string, limit = EXPIRE_PER_RUN): Promise<number> {
  const stale = db
    .select({ id: orders.id })
    .from(orders)
    .where(and(inArray(orders.status, UNPAID_ORDER_STATUSES), lt(orders.createdAt, cutoffIso), ne(orders.paymentStatus, "success")))
    .orderBy(asc(orders.createdAt))
    .limit(limit);
  const expired = await db
    .update(orders)
    .set({ status: "cancelled", updatedAt: nowIso() })
    .where(and(inArray(orders.id, stale), inArray(orders.status, UNPAID_ORDER_STATUSES), ne(orders.paymentStatus, "success")))
    .returning({ id: orders.id });
  return expired.length;
}

/**
 * Restocks cancelled orders whose units are not back yet (expired by the sweep, or a cancel whose request died), whole
 * orders in id order, until `callBudget` object calls are spent. An order whose refund was owed but never yet asked for
 * waits (the admin's request may still be asking, and a refusal puts the order back with its units still sold).
 * Returns the orders finished.
 */
export async function finishCancellations(env: Env, db: Database, callBudget = RESTOCK_CALLS_PER_RUN): Promise<number> {
  const unfinished = await db
    .select({ id: orders.id, holdKey: orders.holdKey })
    .from(orders)
    .where(
      sql`${orders.status} = 'cancelled' and ${orders.restockedAt} is null and not exists (select 1 from ${payments}
        where ${payments.orderId} = ${orders.id} and (${payments.status} = 'success'
          or (${payments.status} = 'refund_pending' and ${payments.refundAttempts} = 0)))`,
    )
    .orderBy(asc(orders.id))
    .limit(UNFINISHED_PER_RUN);
  if (unfinished.length === 0) return 0;
  const lines = new Map<number, number[]>();
  for (let i = 0; i < unfinished.length; i += 100) {
    const ids = unfinished.slice(i, i + 100).map((o) => o.id);
    const rows = await db.select({ orderId: orderItems.orderId, productId: orderItems.productId }).from(orderItems).where(inArray(orderItems.orderId, ids));
    for (const r of rows) lines.set(r.orderId, [...(lines.get(r.orderId) ?? []), r.productId]);
  }
  // Whole orders only: a half-restocked order would spend its calls again next run.
  const chosen: typeof unfinished = [];
  let calls = 0;
  for (const order of unfinished) {
    const n = lines.get(order.id)?.length ?? 0;
    if (calls + n > callBudget) break;
    calls += n;
    chosen.push(order);
  }
  const done = await Promise.all(
    chosen.map(async (order) => {
      const results = await Promise.allSettled((lines.get(order.id) ?? []).map((productId) => productStock(env, productId).restock(order.holdKey)));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) logError("sweep restock failed", failed.reason, { orderId: order.id });
      return failed ? null : order.id;
    }),
  );
  const finished = done.filter((id): id is number => id !== null);
  for (let i = 0; i < finished.length; i += 100) {
    await db
      .update(orders)
      .set({ restockedAt: nowIso() })
      .where(and(inArray(orders.id, finished.slice(i, i + 100)), isNull(orders.restockedAt), eq(orders.status, "cancelled")));
  }
  return finished.length;
}

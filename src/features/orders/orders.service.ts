/**
 * Orders after checkout (see checkout.service.ts): cancellation, expiry of unpaid orders and admin status changes.
 *
 * Cancellation flips the status with a compare-and-set, so of two racing cancels (a user, an admin, the expiry sweep)
 * only one wins; restock is idempotent per hold key in every inventory object, and `restocked_at` is set only once
 * every product has its units back. A cancel that died in between is finished by repeating it, or by the sweep.
 */
import { and, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { ORDER_STATUSES, orderItems, orders, payments, UNPAID_ORDER_STATUSES, type Order, type OrderStatus } from "../../db/schema";
import type { AuthUser } from "../../env";
import { ApiError, errorMessage, fieldError, notFound } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { productStock } from "../../inventory/inventory.client";
import { oweRefund, REFUND_LEASE_MS, settleRefund } from "../payments/refunds.service";

/** What cancellation needs to know of an order. */
export type OrderRef = Pick<Order, "id" | "holdKey">;

/** Loads an order the caller may see: their own, or any for an admin. Someone else's is 404. */
export async function findVisibleOrder(db: Database, user: AuthUser, orderId: number): Promise<Order> {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!order || (!user.isStaff && order.userId !== user.id)) throw notFound();
  return order;
}

async function orderProductIds(db: Database, orderId: number): Promise<number[]> {
  const rows = await db.select({ productId: orderItems.productId }).from(orderItems).where(eq(orderItems.orderId, orderId));
  return rows.map((r) => r.productId);
}

/**
 * Moves an order to `cancelled` only if its status is still one of `from` (compare-and-set), then restocks each
 * product. Returns false when another request changed the status first, so stock is restored exactly once.
 */
export async function cancelAndRestock(env: Env, db: Database, order: OrderRef, from: readonly OrderStatus[], productIds?: number[]) {
  const [changed] = await db
    .update(orders)
    .set({ status: "cancelled", updatedAt: nowIso() })
    .where(and(eq(orders.id, order.id), inArray(orders.status, from), ne(orders.paymentStatus, "success")))
    .returning({ id: orders.id });
  if (!changed) return false;
  await restockOrder(env, db, order, productIds);
  return true;
}

/**
 * Returns a cancelled order's units to stock, then records that it did. Idempotent per order (each object restocks a
 * hold once), so repeating it finishes a cancel that died halfway and changes nothing otherwise.
 */
async function restockOrder(env: Env, db: Database, order: OrderRef, productIds?: number[]) {
  const ids = productIds ?? (await orderProductIds(db, order.id));
  if (order.holdKey) await Promise.all(ids.map((id) => productStock(env, id).restock(order.holdKey!)));
  await db
    .update(orders)
    .set({ restockedAt: nowIso() })
    .where(and(eq(orders.id, order.id), isNull(orders.restockedAt)));
}

/** The owner's (or an admin's) cancel: allowed from pending or payment_failed only. */
export async function cancelOrder(env: Env, db: Database, user: AuthUser, orderId: number) {
  const order = await findVisibleOrder(db, user, orderId);
  const cancelled = await cancelAndRestock(env, db, order, UNPAID_ORDER_STATUSES);
  if (!cancelled) {
    // Already cancelled, maybe by a request that died before restocking: finish its restock (a no-op otherwise).
    const [now] = await db.select({ status: orders.status, restockedAt: orders.restockedAt }).from(orders).where(eq(orders.id, order.id));
    if (now?.status === "cancelled" && !now.restockedAt) await restockOrder(env, db, order);
    throw errorMessage(400, "Only pending or failed orders can be cancelled");
  }
}

/** Forward-only status machine; cancelled and delivered are terminal, payment_failed may go back to pending (retry). */
const NEXT: Record<OrderStatus, OrderStatus[]> = {
  pending: ["paid", "processing", "shipped", "delivered", "cancelled", "payment_failed"],
  paid: ["processing", "shipped", "delivered", "cancelled"],
  processing: ["shipped", "delivered", "cancelled"],
  shipped: ["delivered"],
  delivered: [],
  cancelled: [],
  payment_failed: ["pending", "cancelled"],
};

export function parseStatus(value: unknown): OrderStatus {
  if (value === undefined || value === null || value === "") throw errorMessage(400, "Status is required");
  if (typeof value !== "string" || !(ORDER_STATUSES as readonly string[]).includes(value)) {
    throw errorMessage(400, `Invalid status. Valid options: [${ORDER_STATUSES.map((s) => `'${s}'`).join(", ")}]`);
  }
  return value as OrderStatus;
}

/** Statuses that ship goods: reached only while the order's money is captured and not refunded (nor owed back). */
const FULFILMENT_STATUSES: readonly OrderStatus[] = ["processing", "shipped", "delivered"];

/**
 * Admin status change. A move to cancelled writes the refund obligation with the status (one batch), then asks
 * Razorpay, then restocks once the refund is confirmed or known pending; only a definite refusal puts the order back.
 */
export async function updateOrderStatus(env: Env, db: Database, orderId: number, to: OrderStatus) {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!order) throw notFound();
  if (to === "cancelled" && (order.status === "cancelled" || NEXT[order.status].includes("cancelled"))) {
    if (order.status !== "cancelled") {
      const [changed] = await db.batch([
        db
          .update(orders)
          .set({ status: "cancelled", updatedAt: nowIso() })
          .where(and(eq(orders.id, order.id), eq(orders.status, order.status)))
          .returning({ id: orders.id }),
        oweRefund(db, order.id, Date.now() + REFUND_LEASE_MS),
      ]);
      if (!changed.length) throw conflict();
    }
    // A repeated cancel finishes what an earlier one left: a refund still owed (even one that failed), then the restock.
    await settleRefund(env, db, order.id, order.status === "cancelled" ? undefined : order.status);
    await restockOrder(env, db, order);
    return;
  }
  if (order.status === to) return;
  if (!NEXT[order.status].includes(to)) throw errorMessage(400, `Cannot change status from ${order.status} to ${to}`);
  const fulfilment = FULFILMENT_STATUSES.includes(to);

  const [changed] = await db
    .update(orders)
    .set({
      status: to,
      updatedAt: nowIso(),
      // An admin marking an order paid (e.g. cash on delivery) records the payment as received.
      ...(to === "paid" && order.paymentStatus !== "success" ? { paymentStatus: "success" as const } : {}),
    })
    .where(
      and(
        eq(orders.id, order.id),
        eq(orders.status, order.status),
        // Decided in the write itself, so a refund recorded a moment ago can never be shipped past.
        fulfilment ? eq(orders.paymentStatus, "success") : undefined,
        fulfilment
          ? sql`not exists (select 1 from ${payments} where ${payments.orderId} = ${order.id} and ${payments.status} in ('refund_pending', 'refund_failed', 'refunded'))`
          : undefined,
      ),
    )
    .returning({ id: orders.id });
  if (changed) return;
  if (fulfilment) {
    const [now] = await db.select({ status: orders.status }).from(orders).where(eq(orders.id, order.id));
    if (now?.status === order.status) throw fieldError("status", `Cannot move an order to ${to} unless its payment is captured and not refunded`);
  }
  throw conflict();
}

const conflict = () => new ApiError(409, { error: "The order changed while it was being updated, please retry" });

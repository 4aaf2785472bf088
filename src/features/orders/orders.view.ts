/** Reads orders in the contract's Order and OrderList shapes: one D1 round trip per order, no N+1. */
import { desc, eq, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "../../db/client";
import { categories, orderDailyCounts, orderItems, orders, orderStatusTotals, payments, products, REFUND_STATUSES, users, type Order, type Payment } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import type { PageRequest } from "../../lib/pagination";
import { productListColumns, toProductListOut } from "../catalog/products.view";
import { dayRange, hasFilters, onlyDays, onlyStatus, orderFilterWhere, type OrderFilters } from "./orders.filters";

const orderListColumns = {
  id: orders.id,
  orderNumber: orders.orderNumber,
  totalPaise: orders.totalPaise,
  status: orders.status,
  paymentStatus: orders.paymentStatus,
  // written out in full: inside a subquery Drizzle would print `orders.id` unqualified, and it would bind to order_items.id
  itemsCount: sql<number>`(select count(*) from "order_items" where "order_items"."order_id" = "orders"."id")`,
  createdAt: orders.createdAt,
};

interface OrderListRow {
  id: number;
  orderNumber: string;
  totalPaise: number;
  status: Order["status"];
  paymentStatus: Order["paymentStatus"];
  itemsCount: number;
  createdAt: string;
}

export const toOrderListOut = (row: OrderListRow) => ({
  id: row.id,
  order_number: row.orderNumber,
  total_amount: formatMoney(row.totalPaise),
  status: row.status,
  payment_status: row.paymentStatus,
  items_count: Number(row.itemsCount),
  created_at: row.createdAt,
});

/**
 * A page of orders, newest first: the caller's own, or everyone's for an admin. Rows and count are queried
 * concurrently (D1's batch() maps joined rows by column name, which collides on `id`/`name`, so reads avoid it).
 * The page walks the (user_id, created_at) or (created_at) index backwards, with no sort. An admin's count is the sum
 * of the trigger-kept order_status_totals (a few rows), not a count over every order, and a deeper admin page skips
 * whole days with order_daily_counts instead of walking past every newer order.
 */
export async function listOrders(db: Database, userId: number | null, page: PageRequest, filters: OrderFilters = {}) {
  if (hasFilters(filters)) return listFilteredOrders(db, userId, page, filters);
  const scope = userId === null ? undefined : eq(orders.userId, userId);
  const [rows, [{ count }]] = await Promise.all([
    userId === null && page.offset > 0
      ? adminPageAfterSkippedDays(db, page)
      : db
          .select(orderListColumns)
          .from(orders)
          .where(scope)
          .orderBy(desc(orders.createdAt), desc(orders.id))
          .limit(page.limit)
          .offset(page.offset),
    userId === null
      ? db.select({ count: sql<number>`coalesce(sum(${orderStatusTotals.orderCount}), 0)`.mapWith(Number) }).from(orderStatusTotals)
      : db.select({ count: sql<number>`count(*)` }).from(orders).where(scope),
  ]);
  return { count, results: rows.map(toOrderListOut) };
}

/**
 * A page of the orders that match `filters`, newest first; the rows come through the filter's index (orders.filters.ts).
 * An admin's count reads a rollup where the filter is one (status alone, or days alone), else it counts the matches.
 */
async function listFilteredOrders(db: Database, userId: number | null, page: PageRequest, filters: OrderFilters) {
  const where = orderFilterWhere(filters, userId);
  const sumOf = (column: SQLiteColumn) => sql<number>`coalesce(sum(${column}), 0)`.mapWith(Number);
  const [rows, [{ count }]] = await Promise.all([
    db.select(orderListColumns).from(orders).where(where).orderBy(desc(orders.createdAt), desc(orders.id)).limit(page.limit).offset(page.offset),
    userId === null && onlyStatus(filters)
      ? db.select({ count: sumOf(orderStatusTotals.orderCount) }).from(orderStatusTotals).where(eq(orderStatusTotals.status, filters.status!))
      : userId === null && onlyDays(filters)
        ? db.select({ count: sumOf(orderDailyCounts.orderCount) }).from(orderDailyCounts).where(dayRange(filters))
        : db.select({ count: sql<number>`count(*)`.mapWith(Number) }).from(orders).where(where),
  ]);
  return { count, results: rows.map(toOrderListOut) };
}

/**
 * The same page of every order as `ORDER BY created_at DESC, id DESC LIMIT l OFFSET o`, reading about one day of
 * orders instead of `o`. `skip` finds the day the offset falls in (every order of a newer day sorts before every order
 * of that day, since created_at starts with its day) and how many orders the newer days hold; the page is then read
 * from that day down, offset by the rest. One statement, so it stays one round trip. With no orders at all, `skip`
 * finds no day and the page is empty (never a NULL offset, which SQLite refuses).
 */
function adminPageAfterSkippedDays(db: Database, page: PageRequest): Promise<OrderListRow[]> {
  return db.all<OrderListRow>(sql`
    with skip as (
      select min(day) as day, newer from (
        select day, sum(order_count) over (order by day desc) - order_count as newer from order_daily_counts
      ) where newer <= ${page.offset}
    )
    select o.id as id, o.order_number as orderNumber, o.total_paise as totalPaise, o.status as status,
      o.payment_status as paymentStatus, (select count(*) from order_items i where i.order_id = o.id) as itemsCount,
      o.created_at as createdAt
    from orders o
    where o.created_at < coalesce((select date(day, '+1 day') from skip), '')
    order by o.created_at desc, o.id desc
    limit ${page.limit} offset max(0, ${page.offset} - coalesce((select newer from skip), 0))`);
}

/** Where the refund of this order's payment stands, from its payment record; null when no refund is owed or made. */
function refundStatus(record: Payment["status"] | null): (typeof REFUND_STATUSES)[number] | null {
  return (REFUND_STATUSES as readonly string[]).includes(record ?? "") ? (record as (typeof REFUND_STATUSES)[number]) : null;
}

/** One order with its items (product data is current, price and subtotal are the purchase-time snapshot). */
export async function loadOrder(db: Database, orderId: number) {
  const [[order], items] = await Promise.all([
    db
      .select({ order: orders, userEmail: users.email, payment: payments })
      .from(orders)
      .innerJoin(users, eq(users.id, orders.userId))
      .leftJoin(payments, eq(payments.orderId, orders.id))
      .where(eq(orders.id, orderId)),
    db
      .select({ item: orderItems, product: productListColumns })
      .from(orderItems)
      .innerJoin(products, eq(products.id, orderItems.productId))
      .innerJoin(categories, eq(categories.id, products.categoryId))
      .where(eq(orderItems.orderId, orderId))
      .orderBy(orderItems.id),
  ]);
  if (!order) throw notFound();
  const o = order.order;
  const payment = order.payment;
  return {
    row: o,
    view: {
      id: o.id,
      order_number: o.orderNumber,
      user_email: order.userEmail,
      total_amount: formatMoney(o.totalPaise),
      status: o.status,
      payment_status: o.paymentStatus,
      refund_status: refundStatus(payment?.status ?? null),
      shipping_address: o.shippingAddress,
      items: items.map(({ item, product }) => ({
        id: item.id,
        product: toProductListOut(product),
        product_name: product.name,
        quantity: item.quantity,
        price_at_purchase: formatMoney(item.pricePaise),
        subtotal: formatMoney(item.subtotalPaise),
      })),
      payment: payment
        ? {
            status: payment.status,
            amount: formatMoney(payment.amountPaise),
            currency: payment.currency,
            razorpay_order_id: payment.razorpayOrderId,
            razorpay_payment_id: payment.razorpayPaymentId,
            razorpay_refund_id: payment.razorpayRefundId,
            updated_at: payment.updatedAt,
          }
        : null,
      created_at: o.createdAt,
      updated_at: o.updatedAt,
    },
  };
}

export type OrderView = Awaited<ReturnType<typeof loadOrder>>["view"];

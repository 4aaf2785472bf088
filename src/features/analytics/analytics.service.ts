/**
 * Admin figures, each one a SQL aggregate computed inside D1 (never rows summed in the Worker), so they stay fast
 * at any order count. Revenue and "sold" both mean orders whose payment succeeded: a refunded order has
 * payment_status `refunded`, and failed, pending or unpaid-cancelled orders never reach `success`.
 */
import { and, asc, count, desc, eq, gte, lt, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { categories, orderItems, orders, products } from "../../db/schema";
import { formatMoney } from "../../lib/money";
import { toOrderListOut } from "../orders/orders.view";
import type { Dashboard, SalesReport } from "./analytics.schemas";

const LOW_STOCK_BELOW = 10;
const TOP_PRODUCTS = 10;
const RECENT_ORDERS = 10;
const DAY_MS = 86_400_000;

const paid = eq(orders.paymentStatus, "success");
const revenuePaise = sql<number>`coalesce(sum(${orders.totalPaise}), 0)`.mapWith(Number);

/** The whole dashboard in one D1 batch: one round trip, seven aggregate or indexed queries. */
export async function loadDashboard(db: Database): Promise<Dashboard> {
  // Units per product over paid orders only (the original counted cancelled and unpaid ones too, original-api §7.29);
  // ties go to the lower product id. Names are joined for the 10 winners only, not for every order line.
  const bestSellers = db
    .select({
      productId: orderItems.productId,
      unitsSold: sql<number>`sum(${orderItems.quantity})`.as("units_sold"),
      paise: sql<number>`sum(${orderItems.subtotalPaise})`.as("revenue_paise"),
    })
    .from(orderItems)
    .innerJoin(orders, eq(orders.id, orderItems.orderId))
    .where(paid)
    .groupBy(orderItems.productId)
    .orderBy(desc(sql`units_sold`), asc(orderItems.productId))
    .limit(TOP_PRODUCTS)
    .as("best_sellers");
  const [[revenue], byStatus, topProducts, lowStock, recentOrders, [productCount], [categoryCount]] = await db.batch([
    db.select({ paise: revenuePaise }).from(orders).where(paid),
    db.select({ status: orders.status, count: count() }).from(orders).groupBy(orders.status).orderBy(asc(orders.status)),
    db
      .select({ id: bestSellers.productId, name: products.name, unitsSold: bestSellers.unitsSold, paise: bestSellers.paise })
      .from(bestSellers)
      .innerJoin(products, eq(products.id, bestSellers.productId))
      .orderBy(desc(bestSellers.unitsSold), asc(bestSellers.productId)),
    // `stock` is the D1 projection of each product's inventory object: one query instead of one RPC per product.
    // The category name is aliased: in a batch drizzle maps D1 rows by column name, so two `name`s would collide.
    db
      .select({ id: products.id, name: products.name, stock: products.stock, categoryName: sql<string>`${categories.name}`.as("category_name") })
      .from(products)
      .innerJoin(categories, eq(categories.id, products.categoryId))
      .where(and(eq(products.isActive, true), lt(products.stock, LOW_STOCK_BELOW)))
      .orderBy(asc(products.stock), asc(products.id)),
    db
      .select({
        id: orders.id,
        orderNumber: orders.orderNumber,
        totalPaise: orders.totalPaise,
        status: orders.status,
        paymentStatus: orders.paymentStatus,
        // Qualified by hand: in a single-table select drizzle renders columns unqualified, and a bare "id" here would
        // be order_items.id. A correlated count over the 10 rows kept, not a GROUP BY over every order.
        itemsCount: sql<number>`(select count(*) from ${orderItems} where ${orderItems}.order_id = ${orders}.id)`,
        createdAt: orders.createdAt,
      })
      .from(orders)
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(RECENT_ORDERS),
    // Inactive products included, as the original and the admin product list count them.
    db.select({ count: count() }).from(products),
    db.select({ count: count() }).from(categories),
  ]);
  return {
    total_revenue: formatMoney(revenue.paise),
    orders_by_status: byStatus,
    top_products: topProducts.map((p) => ({
      product__name: p.name,
      product__id: p.id,
      total_sold: p.unitsSold,
      revenue: formatMoney(p.paise),
    })),
    low_stock_products: lowStock.map((p) => ({ id: p.id, name: p.name, stock: p.stock, category__name: p.categoryName })),
    recent_orders: recentOrders.map(toOrderListOut),
    total_products: productCount.count,
    total_categories: categoryCount.count,
  };
}

/**
 * Paid orders created in the last `days` days (from `now`), with one entry per UTC day that had any. created_at is
 * ISO 8601 UTC text, so comparing it with an ISO cutoff is a time comparison and its first 10 characters are the day;
 * both queries use the (payment_status, created_at) index.
 */
export async function loadSalesReport(db: Database, days: number, now: Date): Promise<SalesReport> {
  const inWindow = and(paid, gte(orders.createdAt, new Date(now.getTime() - days * DAY_MS).toISOString()));
  const day = sql<string>`substr(${orders.createdAt}, 1, 10)`;
  const [[totals], daily] = await db.batch([
    db.select({ count: count(), paise: revenuePaise }).from(orders).where(inWindow),
    db.select({ day, count: count(), paise: revenuePaise }).from(orders).where(inWindow).groupBy(day).orderBy(asc(day)),
  ]);
  return {
    period_days: days,
    total_orders: totals.count,
    total_revenue: formatMoney(totals.paise),
    daily_breakdown: daily.map((d) => ({ day: d.day, total: formatMoney(d.paise), count: d.count })),
  };
}

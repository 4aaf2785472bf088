/**
 * Admin figures. Order figures come from the sales rollups (order_status_totals, paid_sales_daily, product_sales;
 * see schema.ts and migration 0005), which triggers keep exact in the same write as every order change, so the
 * dashboard reads a few hundred rows whatever the number of orders. Revenue and "sold" both mean orders whose payment
 * succeeded: a refunded order has payment_status `refunded`, and failed, pending or unpaid-cancelled orders never
 * reach `success`.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "../../db/client";
import { categories, orderItems, orders, orderStatusTotals, paidSalesDaily, products, productSales, UNPAID_ORDER_STATUSES } from "../../db/schema";
import { formatMoney } from "../../lib/money";
import { lowStockIds } from "../catalog/low-stock";
import { catalogCounts } from "../catalog/products.query";
import { toOrderListOut } from "../orders/orders.view";
import type { Dashboard, SalesReport } from "./analytics.schemas";

/** The dashboard shows the emptiest products only; `GET /products/low_stock/` lists them with a limit of its own. */
const DASHBOARD_LOW_STOCK = 100;
const TOP_PRODUCTS = 10;
const RECENT_ORDERS = 10;
const DAY_MS = 86_400_000;

const paid = eq(orders.paymentStatus, "success");
const sumOf = (column: SQLiteColumn) => sql<number>`coalesce(sum(${column}), 0)`.mapWith(Number);

/**
 * The whole dashboard in one D1 batch: one round trip, eight queries, each reading a bounded number of rows.
 * `expiring`: unpaid orders created in this window (ISO bounds, `to` excluded) count as about to expire.
 */
export async function loadDashboard(db: Database, expiring: { from: string; to: string }): Promise<Dashboard> {
  const [[revenue], byStatus, topProducts, lowStock, recentOrders, [productCount], [categoryCount], [expiringSoon]] = await db.batch([
    db.select({ paise: sumOf(orderStatusTotals.totalPaise) }).from(orderStatusTotals).where(eq(orderStatusTotals.paymentStatus, "success")),
    db
      .select({ status: orderStatusTotals.status, count: sumOf(orderStatusTotals.orderCount) })
      .from(orderStatusTotals)
      .groupBy(orderStatusTotals.status)
      .having(gt(sql`sum(${orderStatusTotals.orderCount})`, 0))
      .orderBy(asc(orderStatusTotals.status)),
    // Units per product over paid orders only (the original counted cancelled and unpaid ones too, original-api §7.29);
    // ties go to the lower product id: the first 10 entries of product_sales_best_idx.
    db
      .select({ id: productSales.productId, name: products.name, unitsSold: productSales.unitsSold, paise: productSales.revenuePaise })
      .from(productSales)
      .innerJoin(products, eq(products.id, productSales.productId))
      .orderBy(desc(productSales.unitsSold), asc(productSales.productId))
      .limit(TOP_PRODUCTS),
    // `stock` is the D1 projection of each product's inventory object: one query instead of one RPC per product.
    // The category name is aliased: in a batch drizzle maps D1 rows by column name, so two `name`s would collide.
    db
      .select({ id: products.id, name: products.name, stock: products.stock, categoryName: sql<string>`${categories.name}`.as("category_name") })
      .from(products)
      .innerJoin(categories, eq(categories.id, products.categoryId))
      .where(sql`${products.id} in (${lowStockIds(DASHBOARD_LOW_STOCK)})`)
      .orderBy(asc(products.stock), asc(products.id))
      .limit(DASHBOARD_LOW_STOCK),
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
    // Inactive products included, as the original and the admin product list count them: catalog_counts' 'all' scope.
    db.select({ count: catalogCounts.n }).from(catalogCounts).where(eq(catalogCounts.scope, "all")),
    db.select({ count: sql<number>`count(*)`.mapWith(Number) }).from(categories),
    // two short ranges of the (status, created_at) index: only the unpaid orders of that 20-minute window
    db
      .select({ count: sql<number>`count(*)`.mapWith(Number) })
      .from(orders)
      .where(and(inArray(orders.status, UNPAID_ORDER_STATUSES), gte(orders.createdAt, expiring.from), lt(orders.createdAt, expiring.to))),
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
    total_products: productCount?.count ?? 0,
    total_categories: categoryCount.count,
    unpaid_expiring_soon: expiringSoon.count,
  };
}

/**
 * Paid orders created in the last `days` days (from `now`), with one entry per UTC day that had any. created_at is
 * ISO 8601 UTC text, so comparing it with an ISO cutoff is a time comparison and its first 10 characters are the day.
 * Whole days after the cutoff's day come from paid_sales_daily (at most 365 rows); the cutoff's own day is only partly
 * in the window, so its paid orders from the cutoff on are read from orders through the (payment_status, created_at)
 * index: at most one day of paid orders.
 */
export async function loadSalesReport(db: Database, days: number, now: Date): Promise<SalesReport> {
  const cutoff = new Date(now.getTime() - days * DAY_MS);
  const cutoffIso = cutoff.toISOString();
  const cutoffDay = cutoffIso.slice(0, 10);
  const nextDay = new Date(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth(), cutoff.getUTCDate() + 1)).toISOString().slice(0, 10);
  const [[partial], later] = await db.batch([
    db
      .select({ count: sql<number>`count(*)`.mapWith(Number), paise: sumOf(orders.totalPaise) })
      .from(orders)
      // the range bounds use the index; the day test keeps any odd created_at text out exactly as the old query did
      .where(and(paid, gte(orders.createdAt, cutoffIso), lt(orders.createdAt, nextDay), eq(sql`substr(${orders.createdAt}, 1, 10)`, cutoffDay))),
    db
      .select({ day: paidSalesDaily.day, count: paidSalesDaily.orderCount, paise: paidSalesDaily.totalPaise })
      .from(paidSalesDaily)
      .where(gt(paidSalesDaily.day, cutoffDay))
      .orderBy(asc(paidSalesDaily.day)),
  ]);
  const daily = partial.count > 0 ? [{ day: cutoffDay, count: partial.count, paise: partial.paise }, ...later] : later;
  return {
    period_days: days,
    total_orders: daily.reduce((n, d) => n + d.count, 0),
    total_revenue: formatMoney(daily.reduce((n, d) => n + d.paise, 0)),
    daily_breakdown: daily.map((d) => ({ day: d.day, total: formatMoney(d.paise), count: d.count })),
  };
}

/**
 * Filters of the order list and its CSV export: status, a range of UTC days, and a search by order number or by the
 * customer's username or email. Each maps onto an index, so the rows read follow the orders that match, not all of
 * them: status and days walk (status, created_at) or (created_at); the search finds the order through its unique
 * number, or the customer through the lower(username) / lower(email) unique indexes and their orders through
 * (user_id, created_at). Exact matches only (case-insensitive): a substring search would read every order.
 */
import { z } from "@hono/zod-openapi";
import { and, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import { ORDER_STATUSES, orders, type OrderStatus } from "../../db/schema";

const day = (name: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "Enter a date as YYYY-MM-DD.")
    .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), "Enter a valid date.")
    .optional()
    .openapi({ type: "string", format: "date", example: "2026-12-01", description: `Orders created on or ${name} this UTC day` });

export const orderFilterQuery = {
  status: z
    .enum(ORDER_STATUSES, { error: `Select a valid choice: one of ${ORDER_STATUSES.join(", ")}.` })
    .optional()
    .openapi({ description: "Only orders in this status" }),
  created_from: day("after"),
  created_to: day("before"),
  search: z
    .string()
    .trim()
    .max(254)
    .optional()
    .openapi({ example: "ORD-175A0AC77074", description: "An order number, or a customer's username or email (exact, any case)" }),
};

export interface OrderFilters {
  status?: OrderStatus;
  created_from?: string;
  created_to?: string;
  search?: string;
}

export const hasFilters = (f: OrderFilters) => Boolean(f.status || f.created_from || f.created_to || f.search);

/** The day after `day` (YYYY-MM-DD): the exclusive upper bound of `created_to`. */
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** The WHERE of a filtered list, within `userId`'s orders (null: every order, for an admin). */
export function orderFilterWhere(f: OrderFilters, userId: number | null): SQL | undefined {
  const term = f.search || undefined;
  return and(
    userId === null ? undefined : eq(orders.userId, userId),
    f.status ? eq(orders.status, f.status) : undefined,
    f.created_from ? gte(orders.createdAt, f.created_from) : undefined,
    f.created_to ? lt(orders.createdAt, nextDay(f.created_to)) : undefined,
    term === undefined
      ? undefined
      : sql`${orders.id} in (
          select id from orders where order_number = ${term.toUpperCase()}
          union all
          select id from orders where user_id in (
            select id from users where lower(username) = lower(${term})
            union select id from users where lower(email) = lower(${term})))`,
  );
}

/** Only the day range is set (no status, no search): the count can come from the order_daily_counts rollup. */
export const onlyDays = (f: OrderFilters) => !f.status && !f.search && Boolean(f.created_from || f.created_to);
/** Only the status is set: the count can come from the order_status_totals rollup. */
export const onlyStatus = (f: OrderFilters) => Boolean(f.status) && !f.search && !f.created_from && !f.created_to;

/** The rollup day bounds of `onlyDays` filters. */
export function dayRange(f: OrderFilters): SQL | undefined {
  return and(
    f.created_from ? sql`day >= ${f.created_from}` : undefined,
    f.created_to ? sql`day <= ${f.created_to}` : undefined,
  );
}

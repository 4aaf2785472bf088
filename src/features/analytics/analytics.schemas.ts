import { z } from "@hono/zod-openapi";
import { ORDER_STATUSES } from "../../db/schema";
import { money } from "../../lib/money";
import { OrderListSchema } from "../orders/orders.schemas";

export const MAX_REPORT_DAYS = 365;
export const DEFAULT_REPORT_DAYS = 30;

/** `?days=`: a whole number of days, 1..365, with DRF's messages (the original answered 500 to `abc`). */
export const SalesReportQuery = z.object({
  days: z
    .string({ error: "A valid integer is required." }) // also when `days` is repeated (an array)
    .regex(/^-?\d+$/, "A valid integer is required.")
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, "Ensure this value is greater than or equal to 1.")
        .max(MAX_REPORT_DAYS, `Ensure this value is less than or equal to ${MAX_REPORT_DAYS}.`),
    )
    .default(DEFAULT_REPORT_DAYS)
    .openapi({
      param: { name: "days", in: "query" },
      type: "integer",
      minimum: 1,
      maximum: MAX_REPORT_DAYS,
      default: DEFAULT_REPORT_DAYS,
      description: "Length of the report window, counted back from now",
    }),
});

export const DashboardSchema = z
  .object({
    total_revenue: money.openapi({ description: "Sum of total_amount over orders whose payment succeeded" }),
    orders_by_status: z.array(z.object({ status: z.enum(ORDER_STATUSES), count: z.number().int() })),
    top_products: z
      .array(
        z.object({
          product__name: z.string(),
          product__id: z.number().int(),
          total_sold: z.number().int(),
          revenue: money,
        }),
      )
      .openapi({ description: "The 10 best sellers by units in paid orders" }),
    low_stock_products: z
      .array(z.object({ id: z.number().int(), name: z.string(), stock: z.number().int(), category__name: z.string() }))
      .openapi({ description: "Active products below their low_stock_threshold (default 10), lowest first: the 100 emptiest, as low_stock/ lists them" }),
    unpaid_expiring_soon: z
      .number()
      .int()
      .openapi({ description: "Unpaid orders (pending or payment_failed) whose stock hold ends within the next 10 minutes, or ended in the last 10 and awaits the sweep" }),
    recent_orders: z.array(OrderListSchema).openapi({ description: "The 10 newest orders of all users" }),
    total_products: z.number().int().openapi({ description: "Every product, inactive ones included" }),
    total_categories: z.number().int(),
  })
  .openapi("AnalyticsDashboard");

export const SalesReportSchema = z
  .object({
    period_days: z.number().int(),
    total_orders: z.number().int(),
    total_revenue: money,
    daily_breakdown: z
      .array(z.object({ day: z.string().openapi({ example: "2026-11-24" }), total: money, count: z.number().int() }))
      .openapi({ description: "One entry per UTC day with paid orders, oldest first" }),
  })
  .openapi("SalesReport");

export type Dashboard = z.infer<typeof DashboardSchema>;
export type SalesReport = z.infer<typeof SalesReportSchema>;

import { createRoute } from "@hono/zod-openapi";
import { bearerSecurity, errors, json } from "../../lib/openapi";
import { requireAdmin } from "../../middleware/auth";
import { DashboardSchema, SalesReportQuery, SalesReportSchema } from "./analytics.schemas";

const tags = ["Analytics"];
const adminOnly = { security: bearerSecurity, middleware: requireAdmin };

export const dashboardRoute = createRoute({
  method: "get",
  path: "/products/analytics/",
  operationId: "getAnalyticsDashboard",
  tags,
  summary: "Admin dashboard: revenue, orders by status, best sellers, low stock, recent orders, counts",
  ...adminOnly,
  responses: { 200: json(DashboardSchema, "The dashboard"), ...errors(401, 403) },
});

export const salesReportRoute = createRoute({
  method: "get",
  path: "/orders/sales_report/",
  operationId: "getSalesReport",
  tags,
  summary: "Paid orders and revenue over the last `days` days, per UTC day",
  ...adminOnly,
  request: { query: SalesReportQuery },
  responses: { 200: json(SalesReportSchema, "The report"), ...errors(400, 401, 403) },
});

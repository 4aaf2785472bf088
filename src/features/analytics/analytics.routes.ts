import { createRoute } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, json } from "../../lib/openapi";
import { requireAdmin } from "../../middleware/auth";
import { DashboardSchema, SalesReportQuery, SalesReportSchema } from "./analytics.schemas";

const tags = ["Analytics"];
const { 400: badRequest, 401: unauthorized, 403: forbidden } = errorResponses;
const adminOnly = { security: bearerSecurity, middleware: requireAdmin };

export const dashboardRoute = createRoute({
  method: "get",
  path: "/products/analytics/",
  tags,
  summary: "Admin dashboard: revenue, orders by status, best sellers, low stock, recent orders, counts",
  ...adminOnly,
  responses: { 200: json(DashboardSchema, "The dashboard"), 401: unauthorized, 403: forbidden },
});

export const salesReportRoute = createRoute({
  method: "get",
  path: "/orders/sales_report/",
  tags,
  summary: "Paid orders and revenue over the last `days` days, per UTC day",
  ...adminOnly,
  request: { query: SalesReportQuery },
  responses: { 200: json(SalesReportSchema, "The report"), 400: badRequest, 401: unauthorized, 403: forbidden },
});

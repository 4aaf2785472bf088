import type { Handler } from "../../lib/openapi";
import type * as routes from "./analytics.routes";
import { pendingOrderTtlSeconds } from "../sweep/sweep.service";
import { loadDashboard, loadSalesReport } from "./analytics.service";

const EXPIRING_SOON_SECONDS = 600;

export const dashboard: Handler<typeof routes.dashboardRoute> = async (c) => {
  // An unpaid order is cancelled by the sweep once it is PENDING_ORDER_TTL_SECONDS old: "soon" is the last 10 minutes.
  const expiringBefore = new Date(Date.now() - (pendingOrderTtlSeconds(c.env) - EXPIRING_SOON_SECONDS) * 1000).toISOString();
  return c.json(await loadDashboard(c.get("db"), expiringBefore), 200);
};

export const salesReport: Handler<typeof routes.salesReportRoute> = async (c) => {
  return c.json(await loadSalesReport(c.get("db"), c.req.valid("query").days, new Date()), 200);
};

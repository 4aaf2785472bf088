import type { Handler } from "../../lib/openapi";
import type * as routes from "./analytics.routes";
import { pendingOrderTtlSeconds } from "../sweep/sweep.service";
import { loadDashboard, loadSalesReport } from "./analytics.service";

const EXPIRING_SOON_MS = 600_000;

export const dashboard: Handler<typeof routes.dashboardRoute> = async (c) => {
  // An unpaid order is cancelled by the sweep (every 5 minutes) once it is PENDING_ORDER_TTL_SECONDS old: "about to
  // expire" is within 10 minutes of that age, either side (past it, it waits for the sweep). A bounded window of
  // created_at, so the count reads those orders only, however many older unpaid orders a stopped sweep left.
  const expiresAt = Date.now() - pendingOrderTtlSeconds(c.env) * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const window = { from: iso(expiresAt - EXPIRING_SOON_MS), to: iso(expiresAt + EXPIRING_SOON_MS) };
  return c.json(await loadDashboard(c.get("db"), window), 200);
};

export const salesReport: Handler<typeof routes.salesReportRoute> = async (c) => {
  return c.json(await loadSalesReport(c.get("db"), c.req.valid("query").days, new Date()), 200);
};

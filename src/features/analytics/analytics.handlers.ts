import type { Handler } from "../../lib/openapi";
import type * as routes from "./analytics.routes";
import { loadDashboard, loadSalesReport } from "./analytics.service";

export const dashboard: Handler<typeof routes.dashboardRoute> = async (c) => {
  return c.json(await loadDashboard(c.get("db")), 200);
};

export const salesReport: Handler<typeof routes.salesReportRoute> = async (c) => {
  return c.json(await loadSalesReport(c.get("db"), c.req.valid("query").days, new Date()), 200);
};

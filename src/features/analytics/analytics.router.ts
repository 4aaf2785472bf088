import { createRouter } from "../../lib/openapi";
import * as handlers from "./analytics.handlers";
import * as routes from "./analytics.routes";

/** Mounted at /api before the catalogue and orders routers, whose `{id}` routes would otherwise claim these paths. */
export const analyticsRouter = createRouter()
  .openapi(routes.dashboardRoute, handlers.dashboard)
  .openapi(routes.salesReportRoute, handlers.salesReport);

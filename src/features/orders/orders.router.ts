import { createRouter } from "../../lib/openapi";
import * as handlers from "./orders.handlers";
import * as routes from "./orders.routes";

export const ordersRouter = createRouter()
  .openapi(routes.createOrderRoute, handlers.createOrderHandler)
  .openapi(routes.listOrdersRoute, handlers.listOrdersHandler)
  // before /{id}/, which would otherwise take "export" as an id
  .openapi(routes.exportOrdersRoute, handlers.exportOrdersHandler)
  .openapi(routes.getOrderRoute, handlers.getOrderHandler)
  .openapi(routes.cancelOrderRoute, handlers.cancelOrderHandler)
  .openapi(routes.updateStatusRoute, handlers.updateStatusHandler);

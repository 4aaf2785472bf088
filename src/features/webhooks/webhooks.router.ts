import { createRouter } from "../../lib/openapi";
import * as handlers from "./webhooks.handlers";
import * as routes from "./webhooks.routes";

export const webhooksRouter = createRouter()
  .openapi(routes.createWebhookRoute, handlers.createWebhook)
  .openapi(routes.listWebhooksRoute, handlers.listWebhooks)
  .openapi(routes.getWebhookRoute, handlers.getWebhook)
  .openapi(routes.updateWebhookRoute, handlers.updateWebhook)
  .openapi(routes.deleteWebhookRoute, handlers.deleteWebhook)
  .openapi(routes.rotateSecretRoute, handlers.rotateSecret)
  .openapi(routes.listDeliveriesRoute, handlers.listDeliveries)
  .openapi(routes.redeliverRoute, handlers.redeliver);

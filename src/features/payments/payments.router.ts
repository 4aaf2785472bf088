import { createRouter } from "../../lib/openapi";
import * as handlers from "./payments.handlers";
import * as routes from "./payments.routes";
import { WebhookEvent } from "./payments.schemas";

export const paymentsRouter = createRouter()
  .openapi(routes.initiateRoute, handlers.initiate)
  .openapi(routes.verifyRoute, handlers.verify)
  .openapi(routes.webhookRoute, handlers.webhook);

// The webhook route documents its body by reference (see payments.routes.ts), so the schema is registered here.
paymentsRouter.openAPIRegistry.register("RazorpayWebhookEvent", WebhookEvent);

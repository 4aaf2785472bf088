import type { Handler } from "../../lib/openapi";
import { paginate } from "../../lib/pagination";
import type * as routes from "./webhooks.routes";
import * as service from "./webhooks.service";

export const createWebhook: Handler<typeof routes.createWebhookRoute> = async (c) =>
  c.json(await service.createEndpoint(c.env, c.get("db"), c.req.valid("json")), 201);

export const listWebhooks: Handler<typeof routes.listWebhooksRoute> = async (c) =>
  c.json(await paginate(c, c.req.valid("query"), (page) => service.listEndpoints(c.get("db"), page)), 200);

export const getWebhook: Handler<typeof routes.getWebhookRoute> = async (c) =>
  c.json(service.toEndpointOut(await service.getEndpoint(c.get("db"), c.req.valid("param").id)), 200);

export const updateWebhook: Handler<typeof routes.updateWebhookRoute> = async (c) =>
  c.json(await service.updateEndpoint(c.env, c.get("db"), c.req.valid("param").id, c.req.valid("json")), 200);

export const deleteWebhook: Handler<typeof routes.deleteWebhookRoute> = async (c) => {
  await service.deleteEndpoint(c.get("db"), c.req.valid("param").id);
  return c.body(null, 204);
};

export const rotateSecret: Handler<typeof routes.rotateSecretRoute> = async (c) =>
  c.json(await service.rotateSecret(c.get("db"), c.req.valid("param").id), 200);

export const listDeliveries: Handler<typeof routes.listDeliveriesRoute> = async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await paginate(c, c.req.valid("query"), (page) => service.listDeliveries(c.get("db"), id, page)), 200);
};

export const redeliver: Handler<typeof routes.redeliverRoute> = async (c) => {
  const { id, delivery_id } = c.req.valid("param");
  return c.json(await service.redeliver(c.env, c.get("db"), id, delivery_id), 202);
};

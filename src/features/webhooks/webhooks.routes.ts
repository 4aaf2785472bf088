import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errors, IdParam, json, jsonBody } from "../../lib/openapi";
import { paginated, paginationQuery } from "../../lib/pagination";
import { requireAdmin } from "../../middleware/auth";
import {
  CreateWebhookBody,
  DeliveryParams,
  UpdateWebhookBody,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
} from "./webhooks.schemas";

const tags = ["Webhooks"];
const admin = { security: bearerSecurity, middleware: requireAdmin };

export const createWebhookRoute = createRoute({
  method: "post",
  path: "/",
  operationId: "createWebhookEndpoint",
  tags,
  summary: "Admin: add a webhook endpoint; the answer holds its signing secret, shown this once",
  ...admin,
  request: jsonBody(CreateWebhookBody),
  responses: { 201: json(WebhookEndpointWithSecretSchema, "The new endpoint and its secret"), ...errors(400, 401, 403) },
});

export const listWebhooksRoute = createRoute({
  method: "get",
  path: "/",
  operationId: "listWebhookEndpoints",
  tags,
  summary: "Admin: webhook endpoints, oldest first (secrets never shown)",
  ...admin,
  request: { query: z.object(paginationQuery) },
  responses: { 200: json(paginated(WebhookEndpointSchema), "A page of endpoints"), ...errors(401, 403, 404) },
});

export const getWebhookRoute = createRoute({
  method: "get",
  path: "/{id}/",
  operationId: "getWebhookEndpoint",
  tags,
  summary: "Admin: one webhook endpoint (its secret is never shown)",
  ...admin,
  request: { params: IdParam },
  responses: { 200: json(WebhookEndpointSchema, "The endpoint"), ...errors(401, 403, 404) },
});

export const updateWebhookRoute = createRoute({
  method: "patch",
  path: "/{id}/",
  operationId: "updateWebhookEndpoint",
  tags,
  summary: "Admin: change an endpoint's URL, events, description, or turn it on or off",
  ...admin,
  request: { params: IdParam, ...jsonBody(UpdateWebhookBody) },
  responses: { 200: json(WebhookEndpointSchema, "The updated endpoint"), ...errors(400, 401, 403, 404) },
});

export const deleteWebhookRoute = createRoute({
  method: "delete",
  path: "/{id}/",
  operationId: "deleteWebhookEndpoint",
  tags,
  summary: "Admin: delete an endpoint and its delivery history",
  ...admin,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...errors(401, 403, 404) },
});

export const rotateSecretRoute = createRoute({
  method: "post",
  path: "/{id}/rotate_secret/",
  operationId: "rotateWebhookSecret",
  tags,
  summary: "Admin: a new signing secret; the old one keeps signing beside it for 24 hours",
  ...admin,
  request: { params: IdParam },
  responses: { 200: json(WebhookEndpointWithSecretSchema, "The endpoint and its new secret"), ...errors(401, 403, 404) },
});

export const listDeliveriesRoute = createRoute({
  method: "get",
  path: "/{id}/deliveries/",
  operationId: "listWebhookDeliveries",
  tags,
  summary: "Admin: an endpoint's deliveries, newest first",
  ...admin,
  request: { params: IdParam, query: z.object(paginationQuery) },
  responses: { 200: json(paginated(WebhookDeliverySchema), "A page of deliveries"), ...errors(401, 403, 404) },
});

export const redeliverRoute = createRoute({
  method: "post",
  path: "/{id}/deliveries/{delivery_id}/redeliver/",
  operationId: "redeliverWebhookDelivery",
  tags,
  summary: "Admin: send one delivery again (same webhook-id), with a fresh retry schedule",
  ...admin,
  request: { params: DeliveryParams },
  responses: { 202: json(WebhookDeliverySchema, "The delivery, queued again"), ...errors(401, 403, 404, 503) },
});

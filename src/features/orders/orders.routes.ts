import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, conflictResponses, errorResponses, gatewayResponses, IdParam, json, jsonBody, retryResponses } from "../../lib/openapi";
import { paginated, paginationQuery } from "../../lib/pagination";
import { requireAdmin, requireUser } from "../../middleware/auth";
import { IdempotencyHeaders } from "../../lib/idempotency";
import { CreateOrderBody, OrderListSchema, OrderSchema, UpdateStatusBody } from "./orders.schemas";

const tags = ["Orders"];
const { 400: badRequest, 401: unauthorized, 403: forbidden, 404: notFound, 413: tooLarge } = errorResponses;
const authed = { security: bearerSecurity, middleware: requireUser };

export const createOrderRoute = createRoute({
  method: "post",
  path: "/create_order/",
  tags,
  summary: "Create an order from the caller's cart (atomic, never oversold, retry-safe with Idempotency-Key)",
  ...authed,
  request: { headers: IdempotencyHeaders, ...jsonBody(CreateOrderBody) },
  responses: {
    201: json(OrderSchema, "The new order; the cart is now empty"),
    400: badRequest,
    401: unauthorized,
    ...conflictResponses,
    409: { ...conflictResponses[409], description: "This cart's checkout (or a request with the same Idempotency-Key) is still running" },
    413: tooLarge,
    ...retryResponses,
  },
});

export const listOrdersRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The caller's orders, newest first (admins see every order)",
  ...authed,
  request: { query: z.object(paginationQuery) },
  responses: { 200: json(paginated(OrderListSchema), "A page of orders"), 401: unauthorized, 404: notFound },
});

export const getOrderRoute = createRoute({
  method: "get",
  path: "/{id}/",
  tags,
  summary: "One order (the caller's own, or any for an admin)",
  ...authed,
  request: { params: IdParam },
  responses: { 200: json(OrderSchema, "The order"), 401: unauthorized, 404: notFound },
});

export const cancelOrderRoute = createRoute({
  method: "post",
  path: "/{id}/cancel/",
  tags,
  summary: "Cancel a pending or payment-failed order; its stock is restored exactly once",
  ...authed,
  request: { params: IdParam },
  responses: { 200: json(OrderSchema, "The cancelled order"), 400: badRequest, 401: unauthorized, 404: notFound },
});

export const updateStatusRoute = createRoute({
  method: "patch",
  path: "/{id}/update_status/",
  tags,
  summary: "Admin: move an order forward (cancelling restores stock and refunds a captured payment)",
  security: bearerSecurity,
  middleware: requireAdmin,
  request: { params: IdParam, ...jsonBody(UpdateStatusBody) },
  responses: {
    200: json(OrderSchema, "The updated order"),
    400: badRequest,
    401: unauthorized,
    403: forbidden,
    404: notFound,
    409: conflictResponses[409],
    413: tooLarge,
    502: gatewayResponses[502],
  },
});

import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, errors, failure, gatewayResponses, IdParam, json, jsonBody } from "../../lib/openapi";
import { paginated, paginationQuery } from "../../lib/pagination";
import { requireAdmin, requireUser } from "../../middleware/auth";
import { IdempotencyHeaders } from "../../lib/idempotency";
import { ORDER_CSV_COLUMNS } from "./orders.export";
import { orderFilterQuery } from "./orders.filters";
import { CreateOrderBody, OrderListSchema, OrderSchema, UpdateStatusBody } from "./orders.schemas";

const tags = ["Orders"];
const authed = { security: bearerSecurity, middleware: requireUser };

export const createOrderRoute = createRoute({
  method: "post",
  path: "/create_order/",
  operationId: "createOrder",
  tags,
  summary: "Create an order from the caller's cart (atomic, never oversold, retry-safe with Idempotency-Key)",
  ...authed,
  request: { headers: IdempotencyHeaders, ...jsonBody(CreateOrderBody) },
  responses: {
    201: json(OrderSchema, "The new order; the cart is now empty"),
    ...errors(401, 409, 422, 429, 503),
    400: failure(400, "fields", "error"),
    409: { ...errorResponses[409], description: "This cart's checkout (or a request with the same Idempotency-Key) is still running" },
  },
});

export const listOrdersRoute = createRoute({
  method: "get",
  path: "/",
  operationId: "listOrders",
  tags,
  summary: "The caller's orders, newest first (admins see every order); filter by status, days, order number or customer",
  ...authed,
  request: { query: z.object({ ...orderFilterQuery, ...paginationQuery }) },
  responses: { 200: json(paginated(OrderListSchema), "A page of orders"), ...errors(400, 401, 404) },
});

export const exportOrdersRoute = createRoute({
  method: "get",
  path: "/export/",
  operationId: "exportOrders",
  tags,
  summary: "Admin: every order matching the list's filters as CSV, newest first, streamed (any number of orders)",
  security: bearerSecurity,
  middleware: requireAdmin,
  request: { query: z.object(orderFilterQuery) },
  responses: {
    200: {
      description: `CSV with a header row: ${ORDER_CSV_COLUMNS.join(", ")}`,
      content: { "text/csv": { schema: z.string().openapi({ example: `${ORDER_CSV_COLUMNS.join(",")}\r\n` }) } },
    },
    ...errors(400, 401, 403),
  },
});

export const getOrderRoute = createRoute({
  method: "get",
  path: "/{id}/",
  operationId: "getOrder",
  tags,
  summary: "One order (the caller's own, or any for an admin)",
  ...authed,
  request: { params: IdParam },
  responses: { 200: json(OrderSchema, "The order"), ...errors(401, 404) },
});

export const cancelOrderRoute = createRoute({
  method: "post",
  path: "/{id}/cancel/",
  operationId: "cancelOrder",
  tags,
  summary: "Cancel a pending or payment-failed order; its stock is restored exactly once",
  ...authed,
  request: { params: IdParam },
  responses: { 200: json(OrderSchema, "The cancelled order"), ...errors(401, 404), 400: failure(400, "error") },
});

export const updateStatusRoute = createRoute({
  method: "patch",
  path: "/{id}/update_status/",
  operationId: "updateOrderStatus",
  tags,
  summary: "Admin: move an order forward (cancelling restores stock and refunds a captured payment)",
  security: bearerSecurity,
  middleware: requireAdmin,
  request: { params: IdParam, ...jsonBody(UpdateStatusBody) },
  responses: {
    200: json(OrderSchema, "The updated order"),
    ...errors(401, 403, 404, 409),
    400: failure(400, "fields", "error"),
    ...gatewayResponses,
  },
});

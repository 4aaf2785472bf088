import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, type ErrorBody } from "../../lib/errors";
import type { Handler } from "../../lib/openapi";
import { runIdempotent } from "../../lib/idempotency";
import { pageRequest, pageResponse } from "../../lib/pagination";
import { currentUser } from "../../middleware/auth";
import type * as routes from "./orders.routes";
import { cancelOrder, cartFingerprint, createOrder, findVisibleOrder, parseStatus, readCartLines, updateOrderStatus } from "./orders.service";
import { listOrders, loadOrder, type OrderView } from "./orders.view";

export const createOrderHandler: Handler<typeof routes.createOrderRoute> = async (c) => {
  const user = currentUser(c);
  const db = c.get("db");
  const input = c.req.valid("json");
  const checkout = async () => {
    const id = await createOrder(c.env, db, user, input);
    return { status: 201 as const, body: (await loadOrder(db, id)).view };
  };
  const key = c.req.valid("header")["idempotency-key"];
  if (!key) {
    const { body } = await checkout();
    return c.json(body, 201);
  }
  const lines = await readCartLines(db, user.id);
  const outcome = await runIdempotent<OrderView>(
    c.env.DB,
    { userId: user.id, scope: "create_order", key },
    { request: JSON.stringify(input), state: lines.length ? cartFingerprint(lines) : undefined },
    checkout,
  );
  if (outcome.replayed) c.header("Idempotent-Replayed", "true");
  // A replayed refusal is answered as it was the first time, status included.
  if (outcome.status >= 400) throw new ApiError(outcome.status as ContentfulStatusCode, outcome.body as unknown as ErrorBody);
  return c.json(outcome.body, 201);
};

export const listOrdersHandler: Handler<typeof routes.listOrdersRoute> = async (c) => {
  const user = currentUser(c);
  const page = pageRequest(c.req.valid("query"));
  const { count, results } = await listOrders(c.get("db"), user.isStaff ? null : user.id, page);
  return c.json(pageResponse(c, page, count, results), 200);
};

export const getOrderHandler: Handler<typeof routes.getOrderRoute> = async (c) => {
  const db = c.get("db");
  const order = await findVisibleOrder(db, currentUser(c), c.req.valid("param").id);
  return c.json((await loadOrder(db, order.id)).view, 200);
};

export const cancelOrderHandler: Handler<typeof routes.cancelOrderRoute> = async (c) => {
  const db = c.get("db");
  const { id } = c.req.valid("param");
  await cancelOrder(c.env, db, currentUser(c), id);
  return c.json((await loadOrder(db, id)).view, 200);
};

export const updateStatusHandler: Handler<typeof routes.updateStatusRoute> = async (c) => {
  const db = c.get("db");
  const { id } = c.req.valid("param");
  await updateOrderStatus(c.env, db, id, parseStatus(c.req.valid("json").status));
  return c.json((await loadOrder(db, id)).view, 200);
};

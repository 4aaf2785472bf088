import type { Handler } from "../../lib/openapi";
import { withIdempotencyKey } from "../../lib/idempotency";
import { limitedClientIp } from "../../lib/client-ip";
import { paginate } from "../../lib/pagination";
import { currentUser } from "../../middleware/auth";
import type * as routes from "./orders.routes";
import { cartFingerprint, createOrder, readCartLines } from "./checkout.service";
import { cancelOrder, findVisibleOrder, parseStatus, updateOrderStatus } from "./orders.service";
import { ordersCsv } from "./orders.export";
import { listOrders, loadOrder } from "./orders.view";

export const createOrderHandler: Handler<typeof routes.createOrderRoute> = async (c) => {
  const user = currentUser(c);
  const db = c.get("db");
  const input = c.req.valid("json");
  const order = await withIdempotencyKey(
    c,
    { userId: user.id, scope: "create_order", key: c.req.valid("header")["idempotency-key"] },
    async () => {
      const lines = await readCartLines(db, user.id);
      return { request: JSON.stringify(input), state: lines.length ? cartFingerprint(lines) : undefined };
    },
    async (claim) => ({
      status: 201,
      body: (await loadOrder(db, await createOrder(c.env, db, user, { ...input, clientIp: limitedClientIp(c) }, claim))).view,
    }),
    // The first request wrote its order and died before answering: the retry answers with that order.
    async (orderId) => ({ status: 201, body: (await loadOrder(db, orderId)).view }),
  );
  return c.json(order, 201);
};

export const listOrdersHandler: Handler<typeof routes.listOrdersRoute> = async (c) => {
  const user = currentUser(c);
  const query = c.req.valid("query");
  const page = await paginate(c, query, (request) => listOrders(c.get("db"), user.isStaff ? null : user.id, request, query));
  return c.json(page, 200);
};

export const exportOrdersHandler: Handler<typeof routes.exportOrdersRoute> = async (c) => {
  const filename = `orders-${new Date().toISOString().slice(0, 10)}.csv`;
  return c.body(ordersCsv(c.get("db"), c.req.valid("query")), 200, {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="${filename}"`,
  });
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

/**
 * Orders: the checkout saga of design.md, cancellation and admin status changes.
 *
 * Stock lives in one Inventory object per product and orders in D1, with no transaction spanning both. So checkout
 * reserves every line first (in product id order, each reservation idempotent per order number), then writes order,
 * items and cart clearing in one atomic D1 batch, then commits the reservations. A failure before the batch releases
 * what was reserved; a Worker that dies in between leaves holds that the objects' alarms settle by asking D1 whether
 * the order exists. Cancellation flips the status with a compare-and-set, so of two racing cancels only one restocks,
 * and restock itself is idempotent per order number.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { cartItems, carts, ORDER_STATUSES, orderItems, orders, products, type Order, type OrderStatus } from "../../db/schema";
import type { AuthUser } from "../../env";
import { ApiError, errorMessage, fieldError, notFound } from "../../lib/errors";
import { randomHex } from "../../lib/crypto";
import { nowIso } from "../../lib/time";
import { DEFAULT_HOLD_TTL_MS } from "../../inventory/inventory.do";
import { inventoryOf } from "../../inventory/inventory.client";
import { formatAddress, getAddress } from "../auth/addresses.service";
import { refundOrderPayment } from "../payments/payments.service";

export interface CheckoutInput {
  shipping_address?: string;
  shipping_address_id?: number | null;
}

export interface CartLine {
  itemId: number;
  productId: number;
  quantity: number;
  name: string;
  pricePaise: number;
  isActive: boolean;
}

/**
 * Points where tests inject failures. A hook that throws `SimulatedCrash` stops the saga as a dead Worker would:
 * no compensation runs. Any other error is handled as a real failure of that step.
 */
export interface CheckoutHooks {
  afterReserve?: () => Promise<void> | void;
  /** Extra statements appended to the order batch (a failing one proves the batch is all-or-nothing). */
  extraBatchStatements?: (db: Database) => BatchItem<"sqlite">[];
  /** Runs right after the batch, inside its error handling: a throw here is a batch that committed but reported failure. */
  afterBatch?: () => Promise<void> | void;
  afterRecord?: () => Promise<void> | void;
  holdTtlMs?: number;
}

export class SimulatedCrash extends Error {}

/** "ORD-" + 12 upper-case hex characters, as the original generates. */
export const newOrderNumber = () => `ORD-${randomHex(6).toUpperCase()}`;

/** The user's cart lines with current product data, in product id order (the order reservations are taken in). */
export async function readCartLines(db: Database, userId: number): Promise<CartLine[]> {
  return db
    .select({
      itemId: cartItems.id,
      productId: cartItems.productId,
      quantity: cartItems.quantity,
      name: products.name,
      pricePaise: products.pricePaise,
      isActive: products.isActive,
    })
    .from(cartItems)
    .innerJoin(carts, eq(carts.id, cartItems.cartId))
    .innerJoin(products, eq(products.id, cartItems.productId))
    .where(eq(carts.userId, userId))
    .orderBy(cartItems.productId);
}

/** A stable text of the cart's lines, so an Idempotency-Key reused with another cart is detected. */
export const cartFingerprint = (lines: CartLine[]) => lines.map((l) => `${l.productId}x${l.quantity}`).join(",");

async function resolveShippingAddress(db: Database, userId: number, input: CheckoutInput): Promise<string> {
  if (input.shipping_address_id) {
    const address = await getAddress(db, userId, input.shipping_address_id).catch(() => {
      throw fieldError("shipping_address_id", "Address not found");
    });
    return formatAddress(address);
  }
  if (input.shipping_address) return input.shipping_address;
  throw fieldError("non_field_errors", "Either shipping_address_id or shipping_address must be provided");
}

async function releaseAll(env: Env, orderNumber: string, productIds: number[]) {
  await Promise.allSettled(productIds.map((id) => inventoryOf(env, id).release(orderNumber)));
}

/** Creates an order from the user's cart. Returns the new order's id. */
export async function createOrder(env: Env, db: Database, user: AuthUser, input: CheckoutInput, hooks: CheckoutHooks = {}) {
  const shippingAddress = await resolveShippingAddress(db, user.id, input);
  const lines = await readCartLines(db, user.id);
  if (lines.length === 0) throw errorMessage(400, "Cart is empty");
  const unavailable = lines.find((l) => !l.isActive);
  if (unavailable) throw errorMessage(400, `${unavailable.name} is no longer available`);

  const orderNumber = newOrderNumber();
  const ttl = hooks.holdTtlMs ?? DEFAULT_HOLD_TTL_MS;
  const deadline = Date.now() + ttl / 2;
  const reserved: number[] = [];
  try {
    for (const line of lines) {
      // Recorded before asking: a reserve that took effect but whose answer was lost must be released too
      // (releasing a key the object never held does nothing).
      reserved.push(line.productId);
      const result = await inventoryOf(env, line.productId).reserve(line.productId, orderNumber, line.quantity, ttl);
      if (!result.ok) {
        throw errorMessage(400, `Insufficient stock for ${line.name}. Available: ${result.available}, Requested: ${line.quantity}`);
      }
    }
    await hooks.afterReserve?.();
    // Past half the hold's life the alarm may soon settle it; better to fail cleanly than to race it.
    if (Date.now() > deadline) throw errorMessage(503, "Checkout took too long, please retry");
  } catch (err) {
    if (!(err instanceof SimulatedCrash)) await releaseAll(env, orderNumber, reserved);
    throw err;
  }

  const total = lines.reduce((sum, l) => sum + l.pricePaise * l.quantity, 0);
  const orderId = sql`(select id from ${orders} where ${orders.orderNumber} = ${orderNumber})`;
  const itemRows = lines.map((l) => ({
    orderId,
    productId: l.productId,
    quantity: l.quantity,
    pricePaise: l.pricePaise,
    subtotalPaise: l.pricePaise * l.quantity,
  }));
  const itemIds = lines.map((l) => l.itemId);
  try {
    await db.batch([
      db.insert(orders).values({ userId: user.id, orderNumber, totalPaise: total, shippingAddress }),
      // chunks keep every statement under D1's 100 bound parameters
      ...chunk(itemRows, 15).map((rows) => db.insert(orderItems).values(rows)),
      ...chunk(itemIds, 90).map((ids) => db.delete(cartItems).where(inArray(cartItems.id, ids))),
      ...(hooks.extraBatchStatements?.(db) ?? []),
    ] as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    await hooks.afterBatch?.();
  } catch (err) {
    if (err instanceof SimulatedCrash) throw err;
    console.error(JSON.stringify({ level: "error", msg: "order batch failed", orderNumber, error: String(err) }));
    // A D1 write can commit even though its caller saw an error: release only when the order is known to be absent.
    // If even that cannot be told, the holds stay and the objects' alarms settle them by asking D1 later.
    const exists = await orderExists(db, orderNumber).catch(() => null);
    if (exists === false) await releaseAll(env, orderNumber, reserved);
    if (exists !== true) throw errorMessage(503, "Could not create the order, please retry");
  }
  await hooks.afterRecord?.();

  const [order] = await db.select({ id: orders.id }).from(orders).where(eq(orders.orderNumber, orderNumber));
  const commits = await Promise.allSettled(lines.map((l) => inventoryOf(env, l.productId).commit(orderNumber)));
  if (commits.some((c) => c.status === "fulfilled" && c.value === false)) {
    // A hold expired and was released before we committed (only after a very slow batch): undo the order.
    await cancelAndRestock(env, db, order.id, orderNumber, ["pending"], lines.map((l) => l.productId));
    throw errorMessage(503, "Stock reservation expired, please retry");
  }
  // A commit whose answer was lost is not a failed order: the order exists, so the object's alarm commits the hold.
  for (const c of commits) if (c.status === "rejected") console.error(JSON.stringify({ level: "error", msg: "commit failed", orderNumber, error: String(c.reason) }));
  return order.id;
}

async function orderExists(db: Database, orderNumber: string): Promise<boolean> {
  const [row] = await db.select({ id: orders.id }).from(orders).where(eq(orders.orderNumber, orderNumber));
  return row !== undefined;
}

/** Loads an order the caller may see: their own, or any for an admin. Someone else's is 404. */
export async function findVisibleOrder(db: Database, user: AuthUser, orderId: number): Promise<Order> {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!order || (!user.isStaff && order.userId !== user.id)) throw notFound();
  return order;
}

async function orderProductIds(db: Database, orderId: number): Promise<number[]> {
  const rows = await db.select({ productId: orderItems.productId }).from(orderItems).where(eq(orderItems.orderId, orderId));
  return rows.map((r) => r.productId);
}

/**
 * Moves an order to `cancelled` only if its status is still one of `from` (compare-and-set), then restocks each
 * product. Returns false when another request changed the status first, so stock is restored exactly once.
 */
async function cancelAndRestock(env: Env, db: Database, orderId: number, orderNumber: string, from: OrderStatus[], productIds?: number[]) {
  const [changed] = await db
    .update(orders)
    .set({ status: "cancelled", updatedAt: nowIso() })
    .where(and(eq(orders.id, orderId), inArray(orders.status, from)))
    .returning({ id: orders.id });
  if (!changed) return false;
  await restockOrder(env, db, orderId, orderNumber, productIds);
  return true;
}

/** Returns a cancelled order's units to stock; idempotent per order, so it is safe to repeat to finish a cancel. */
async function restockOrder(env: Env, db: Database, orderId: number, orderNumber: string, productIds?: number[]) {
  const ids = productIds ?? (await orderProductIds(db, orderId));
  await Promise.all(ids.map((id) => inventoryOf(env, id).restock(orderNumber)));
}

/** The owner's (or an admin's) cancel: allowed from pending or payment_failed only. */
export async function cancelOrder(env: Env, db: Database, user: AuthUser, orderId: number) {
  const order = await findVisibleOrder(db, user, orderId);
  const cancelled = await cancelAndRestock(env, db, order.id, order.orderNumber, ["pending", "payment_failed"]);
  if (!cancelled) {
    // Already cancelled, maybe by a request that died before restocking: finish its restock (a no-op otherwise).
    const [now] = await db.select({ status: orders.status }).from(orders).where(eq(orders.id, order.id));
    if (now?.status === "cancelled") await restockOrder(env, db, order.id, order.orderNumber);
    throw errorMessage(400, "Only pending or failed orders can be cancelled");
  }
}

/** Forward-only status machine; cancelled and delivered are terminal, payment_failed may go back to pending (retry). */
const NEXT: Record<OrderStatus, OrderStatus[]> = {
  pending: ["paid", "processing", "shipped", "delivered", "cancelled", "payment_failed"],
  paid: ["processing", "shipped", "delivered", "cancelled"],
  processing: ["shipped", "delivered", "cancelled"],
  shipped: ["delivered"],
  delivered: [],
  cancelled: [],
  payment_failed: ["pending", "cancelled"],
};

export function parseStatus(value: unknown): OrderStatus {
  if (value === undefined || value === null || value === "") throw errorMessage(400, "Status is required");
  if (typeof value !== "string" || !(ORDER_STATUSES as readonly string[]).includes(value)) {
    throw errorMessage(400, `Invalid status. Valid options: [${ORDER_STATUSES.map((s) => `'${s}'`).join(", ")}]`);
  }
  return value as OrderStatus;
}

/** Admin status change. A move to cancelled refunds a captured payment first, then restocks exactly once. */
export async function updateOrderStatus(env: Env, db: Database, orderId: number, to: OrderStatus) {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!order) throw notFound();
  if (to === "cancelled" && (order.status === "cancelled" || NEXT[order.status].includes("cancelled"))) {
    // Status first (compare-and-set), then refund and restock, both idempotent: a cancel that died halfway is
    // finished by repeating it, and a concurrent status change can never leave money refunded on a live order.
    const [changed] = await db
      .update(orders)
      .set({ status: "cancelled", updatedAt: nowIso() })
      .where(and(eq(orders.id, order.id), eq(orders.status, order.status)))
      .returning({ id: orders.id });
    if (!changed) throw conflict();
    try {
      await refundOrderPayment(env, db, order.id);
    } catch (err) {
      // The gateway refused or timed out: put the status back, so a failed refund changes nothing.
      if (order.status !== "cancelled") {
        await db
          .update(orders)
          .set({ status: order.status, updatedAt: nowIso() })
          .where(and(eq(orders.id, order.id), eq(orders.status, "cancelled")));
      }
      throw err;
    }
    await restockOrder(env, db, order.id, order.orderNumber);
    return;
  }
  if (order.status === to) return;
  if (!NEXT[order.status].includes(to)) throw errorMessage(400, `Cannot change status from ${order.status} to ${to}`);

  const [changed] = await db
    .update(orders)
    .set({
      status: to,
      updatedAt: nowIso(),
      // An admin marking an order paid (e.g. cash on delivery) records the payment as received.
      ...(to === "paid" && order.paymentStatus !== "success" ? { paymentStatus: "success" as const } : {}),
    })
    .where(and(eq(orders.id, order.id), eq(orders.status, order.status)))
    .returning({ id: orders.id });
  if (!changed) throw conflict();
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const conflict = () => new ApiError(409, { error: "The order changed while it was being updated, please retry" });

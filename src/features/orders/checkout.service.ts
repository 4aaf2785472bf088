/**
 * Checkout: the saga of design.md, from the user's cart to a pending order.
 *
 * 1. Claim the cart (a lease on the `carts` row) and read its lines in one D1 batch: only one checkout of a cart
 *    runs at a time, so a double-click makes one order and the other answers "Cart is empty" (or 409 while the first
 *    is still running), taking no stock.
 * 2. Reserve every line in its product's inventory object, all at once (holds never block, so no ordering is needed),
 *    under a random hold key. Any refusal releases every hold at once.
 * 3. One atomic D1 batch writes the order (only while this checkout still holds the cart), its items, clears the
 *    cart lines and the lease. An order-number collision retries the batch with a new number; the hold key is ours
 *    alone, so a retry can never touch another order.
 *    The batch writes the order only while its hold key is not fenced (released_holds): an object's alarm that
 *    released an expired hold fenced its key in the same statement that found no order, so a batch D1 runs late
 *    can never sell units already back on sale; it writes nothing and the cart stays. Under an Idempotency-Key the
 *    same batch ties the key to the order, so a retry after a dead first request replays that order.
 * 4. Commit the holds, all at once. A Worker that dies between 2 and 4 leaves holds that the objects' alarms settle
 *    by asking D1 whether an order with that hold key exists.
 * Faults are injected in tests through the bindings (test/crash-harness.ts), never through parameters here.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { cartItems, carts, idempotencyKeys, orderItems, orders, products, releasedHolds, UNPAID_ORDER_STATUSES } from "../../db/schema";
import type { AuthUser } from "../../env";
import { randomHex } from "../../lib/crypto";
import { ApiError, errorMessage, fieldError, isNotNullViolation, isUniqueViolation } from "../../lib/errors";
import { DEFAULT_HOLD_TTL_MS } from "../../inventory/inventory.do";
import { productStock } from "../../inventory/inventory.client";
import { isSoldOut } from "../../inventory/inventory.shards";
import { logError } from "../../lib/log";
import { formatAddress, getAddress } from "../auth/addresses.service";
import { cancelAndRestock } from "./orders.service";
import { checkPurchaseLimits, type ClientHold } from "./purchase-limits";

/** At most this many unpaid (pending or payment_failed) orders per user: each one holds stock until it expires. */
export const MAX_UNPAID_ORDERS = 5;
const ORDER_NUMBER_ATTEMPTS = 3;
/** How long a cart lease outlives the checkout deadline: time for the order batch that started just before it. */
const LEASE_MARGIN_MS = 5_000;

export interface CheckoutInput {
  shipping_address?: string;
  shipping_address_id?: number | null;
  /** Not from the body: the client address held to the per-IP unpaid-units cap (null: local, not limited). */
  clientIp?: string | null;
}

export interface CartLine {
  itemId: number;
  productId: number;
  quantity: number;
  name: string;
  pricePaise: number;
  isActive: boolean;
  /** How many inventory shards the product's stock is spread over (products.stock_shards). */
  stockShards: number;
  maxPerCustomer: number | null;
}

/** The Idempotency-Key this checkout runs under (its lease): the order batch ties the key to the order it writes. */
export interface CheckoutClaim {
  userId: number;
  scope: string;
  key: string;
  lease: string;
}

/** "ORD-" + 12 upper-case hex characters, as the original generates. */
export const newOrderNumber = () => `ORD-${randomHex(6).toUpperCase()}`;

/** The user's cart lines with current product data, in product id order. */
export function cartLinesQuery(db: Database, userId: number) {
  return db
    .select({
      itemId: cartItems.id,
      productId: cartItems.productId,
      quantity: cartItems.quantity,
      name: products.name,
      pricePaise: products.pricePaise,
      isActive: products.isActive,
      stockShards: products.stockShards,
      maxPerCustomer: products.maxPerCustomer,
    })
    .from(cartItems)
    .innerJoin(carts, sql`${carts.id} = ${cartItems.cartId}`)
    .innerJoin(products, sql`${products.id} = ${cartItems.productId}`)
    .where(sql`${carts.userId} = ${userId}`)
    .orderBy(cartItems.productId);
}

export const readCartLines = (db: Database, userId: number): Promise<CartLine[]> => cartLinesQuery(db, userId);

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

/**
 * Takes the user's cart for one checkout, in the same batch that reads its lines and counts the user's unpaid orders.
 * The lease is taken only if the cart has lines and no live checkout holds it. It lasts a little longer than a
 * checkout may spend before writing its order (half the hold's life), so a checkout whose Worker died blocks the next
 * one for about a minute. Should a slow checkout outlive its lease and another take the cart, the slow one's order
 * batch finds the lease gone and writes nothing.
 */
async function claimCart(db: Database, userId: number, holdKey: string, leaseMs: number) {
  const now = Date.now();
  const [claimed, lines, unpaid] = await db.batch([
    db
      .update(carts)
      .set({ checkoutKey: holdKey, checkoutExpiresAt: now + leaseMs })
      .where(
        sql`${carts.userId} = ${userId}
          and (${carts.checkoutKey} is null or ${carts.checkoutExpiresAt} < ${now})
          and exists (select 1 from ${cartItems} where ${cartItems.cartId} = ${carts.id})`,
      )
      .returning({ id: carts.id }),
    cartLinesQuery(db, userId),
    db
      .select({ n: sql<number>`count(*)` })
      .from(orders)
      .where(sql`${orders.userId} = ${userId} and ${orders.status} in ${UNPAID_ORDER_STATUSES}`),
  ]);
  return { claimed: claimed.length === 1, lines: lines as CartLine[], unpaid: unpaid[0]?.n ?? 0 };
}

/** Gives the cart back (a failed checkout); only the holder of the lease can. */
function releaseCart(db: Database, userId: number, holdKey: string) {
  return db
    .update(carts)
    .set({ checkoutKey: null, checkoutExpiresAt: null })
    .where(sql`${carts.userId} = ${userId} and ${carts.checkoutKey} = ${holdKey}`);
}

async function releaseHolds(env: Env, holdKey: string, productIds: number[]) {
  await Promise.allSettled(productIds.map((id) => productStock(env, id).release(holdKey)));
}

export const checkoutInProgress = () => errorMessage(409, "A checkout of this cart is already in progress");

/** Creates an order from the user's cart. Returns the new order's id. */
export async function createOrder(env: Env, db: Database, user: AuthUser, input: CheckoutInput, claim?: CheckoutClaim) {
  const holdKey = crypto.randomUUID();
  const ttl = DEFAULT_HOLD_TTL_MS;
  const [shippingAddress, cart] = await Promise.all([
    resolveShippingAddress(db, user.id, input),
    claimCart(db, user.id, holdKey, ttl / 2 + LEASE_MARGIN_MS),
  ]).catch(async (err) => {
    await releaseCart(db, user.id, holdKey).catch(() => undefined); // the address was refused after the claim
    throw err;
  });
  const { lines } = cart;
  if (lines.length === 0) throw errorMessage(400, "Cart is empty");
  if (!cart.claimed) throw checkoutInProgress();

  const productIds = lines.map((l) => l.productId);
  let reservesSent = false;
  let clientHold: ClientHold | undefined;
  try {
    const unavailable = lines.find((l) => !l.isActive);
    if (unavailable) throw errorMessage(400, `${unavailable.name} is no longer available`);
    if (cart.unpaid >= MAX_UNPAID_ORDERS) {
      throw errorMessage(400, `You have ${cart.unpaid} unpaid orders. Pay for or cancel one before placing another.`);
    }
    // A product this isolate knows to be sold out is refused before any object call (the client ledger's included).
    const soldOut = lines.find((l) => isSoldOut(l.productId));
    if (soldOut) throw errorMessage(400, `Insufficient stock for ${soldOut.name}. Available: 0, Requested: ${soldOut.quantity}`);
    clientHold = await checkPurchaseLimits(env, db, user.id, input.clientIp ?? null, holdKey, lines);
    const deadline = Date.now() + ttl / 2;
    const results = await Promise.allSettled(
      lines.map((l) => productStock(env, l.productId, l.stockShards).reserve(holdKey, l.quantity, ttl)),
    );
    reservesSent = true;
    const refused = results.findIndex((r) => r.status === "rejected" || !r.value.ok);
    if (refused >= 0) {
      const result = results[refused];
      if (result.status === "rejected") throw result.reason;
      const line = lines[refused];
      throw errorMessage(400, `Insufficient stock for ${line.name}. Available: ${result.value.available}, Requested: ${line.quantity}`);
    }
    // Past half the hold's life the alarm may soon settle it; better to fail cleanly than to race it.
    if (Date.now() > deadline) throw errorMessage(503, "Checkout took too long, please retry");
  } catch (err) {
    // A reserve that took effect but whose answer was lost is released too (releasing an unknown key does nothing).
    await Promise.all([
      reservesSent ? releaseHolds(env, holdKey, productIds) : undefined,
      releaseCart(db, user.id, holdKey),
      clientHold?.release(),
    ]);
    throw err;
  }

  const orderId = await recordOrder(env, db, user.id, holdKey, shippingAddress, lines, claim);

  const commits = await Promise.allSettled(productIds.map((id) => productStock(env, id).commit(holdKey)));
  if (commits.some((c) => c.status === "fulfilled" && c.value === false)) {
    // A hold expired and was released before we committed (only after a very slow batch): undo the order.
    await cancelAndRestock(env, db, { id: orderId, holdKey }, ["pending"], productIds);
    throw errorMessage(503, "Stock reservation expired, please retry");
  }
  // A commit whose answer was lost is not a failed order: the order exists, so the object's alarm commits the hold.
  for (const c of commits) if (c.status === "rejected") logError("commit failed", c.reason, { holdKey });
  return orderId;
}

/**
 * Writes order, items, cart clearing and lease release in one atomic batch. The order row can be written only while
 * this checkout still holds the cart (its user id is read from the held cart row); otherwise a NOT NULL constraint
 * fails and the whole batch rolls back. Returns the order id.
 */
async function recordOrder(
  env: Env,
  db: Database,
  userId: number,
  holdKey: string,
  shippingAddress: string,
  lines: CartLine[],
  claim: CheckoutClaim | undefined,
): Promise<number> {
  const total = lines.reduce((sum, l) => sum + l.pricePaise * l.quantity, 0);
  const orderIdOf = sql`(select ${orders.id} from ${orders} where ${orders.holdKey} = ${holdKey})`;
  const itemRows = lines.map((l) => ({
    orderId: orderIdOf,
    productId: l.productId,
    quantity: l.quantity,
    pricePaise: l.pricePaise,
    subtotalPaise: l.pricePaise * l.quantity,
  }));
  const productIds = lines.map((l) => l.productId);
  // NULL unless this checkout still holds the cart: the order's NOT NULL user_id then aborts the whole batch.
  const heldCartOwner = sql<number>`(select ${carts.userId} from ${carts} where ${carts.userId} = ${userId} and ${carts.checkoutKey} = ${holdKey})`;
  // NULL once an object's alarm released (and fenced) this hold: NOT NULL order_number aborts the batch.
  const unfenced = (orderNumber: string) =>
    sql<string>`(select ${orderNumber} where not exists (select 1 from ${releasedHolds} where ${releasedHolds.holdKey} = ${holdKey}))`;
  // NULL once another request took the Idempotency-Key over (this one was thought dead): NOT NULL total aborts the batch.
  const keyHeld = claim ? sql`exists (select 1 from ${idempotencyKeys} where ${keyOf(claim)} and ${idempotencyKeys.createdAt} = ${claim.lease})` : sql`1`;
  const total_ = sql<number>`(select ${total} where ${keyHeld})`;

  for (let attempt = 1; ; attempt++) {
    const orderNumber = newOrderNumber();
    try {
      const [inserted] = await db.batch([
        db
          .insert(orders)
          .values({ userId: heldCartOwner, orderNumber: unfenced(orderNumber), holdKey, totalPaise: total_, shippingAddress })
          .returning({ id: orders.id }),
        // chunks keep every statement under D1's 100 bound parameters
        ...chunk(itemRows, 15).map((rows) => db.insert(orderItems).values(rows)),
        ...chunk(lines, 90).map((part) => db.delete(cartItems).where(inArray(cartItems.id, part.map((l) => l.itemId)))),
        releaseCart(db, userId, holdKey),
        ...(claim ? [db.update(idempotencyKeys).set({ resourceId: orderIdOf }).where(and(keyOf(claim), eq(idempotencyKeys.createdAt, claim.lease)))] : []),
      ] as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
      const id = (inserted as { id: number }[])[0]?.id;
      if (id === undefined) throw new Error("order batch returned no order id");
      return id;
    } catch (err) {
      if (isUniqueViolation(err, "order_number") && attempt < ORDER_NUMBER_ATTEMPTS) continue;
      logError("order batch failed", err, { holdKey });
      // A D1 write can commit even though its caller saw an error: release only when the order is known to be absent.
      // If even that cannot be told, the holds stay and the objects' alarms settle them by asking D1 later.
      const existing = await findOrderId(db, holdKey).catch(() => undefined);
      if (existing) return existing;
      if (existing === null) await Promise.all([releaseHolds(env, holdKey, productIds), releaseCart(db, userId, holdKey)]);
      if (isNotNullViolation(err, "orders.user_id")) throw checkoutInProgress(); // the lease was lost
      if (isNotNullViolation(err, "orders.order_number")) throw errorMessage(503, "Stock reservation expired, please retry");
      if (isNotNullViolation(err, "orders.total_paise")) throw idempotencyKeyTaken();
      throw err instanceof ApiError ? err : errorMessage(503, "Could not create the order, please retry");
    }
  }
}

const keyOf = (claim: CheckoutClaim) =>
  and(eq(idempotencyKeys.userId, claim.userId), eq(idempotencyKeys.scope, claim.scope), eq(idempotencyKeys.key, claim.key))!;

const idempotencyKeyTaken = () => errorMessage(409, "A request with this Idempotency-Key is still being processed");

async function findOrderId(db: Database, holdKey: string): Promise<number | null> {
  const [row] = await db.select({ id: orders.id }).from(orders).where(sql`${orders.holdKey} = ${holdKey}`);
  return row?.id ?? null;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

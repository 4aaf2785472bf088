/**
 * Purchase limits against hoarding (issue 28; OWASP OAT-021 "Denial of Inventory", OAT-005 "Scalping"):
 * - per customer and product, `products.max_per_customer`: the units of the product in the customer's live orders
 *   (every status but cancelled: unpaid and paid) plus the cart line or the new order never exceed it. Add to cart and
 *   checkout answer 400 naming `quantity`. Checkout checks after it holds the cart's lease: a user's orders are only
 *   written under that lease, so two checkouts of one customer cannot both pass;
 * - per client IP and product, `UNPAID_UNITS_PER_IP_PER_PRODUCT` (20): the units one address holds in unpaid orders,
 *   across all its accounts, in a ClientHolds object per address (client-holds.do.ts); more answers 429 with
 *   `Retry-After`. Local requests (lib/client-ip.ts) are not held to it.
 */
import { inArray, type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { products } from "../../db/schema";
import { ApiError, fieldError } from "../../lib/errors";
import { logError } from "../../lib/log";
import { DEFAULT_HOLD_TTL_MS } from "../../inventory/inventory.do";
import { objectLocation } from "../../placement/location";

/** Units of each product in the user's live orders (every status but cancelled), for the products given. */
function liveUnitsSql(userId: number) {
  // `+product_id`: walk the user's few orders (user index, then the items' covering index), never every line of a
  // popular product.
  return sql<number>`(select coalesce(sum(oi.quantity), 0) from orders o join order_items oi on oi.order_id = o.id
    where o.user_id = ${userId} and o.status <> 'cancelled' and +oi.product_id = "products"."id")`;
}

/**
 * SQL for the units of a product the user may still put in a cart: its limit minus the units in the user's live orders,
 * or `unlimited` when the product has no limit. `productId` is an SQL expression (a column of the outer statement).
 */
export function unitsLeftSql(userId: number, productId: SQL, unlimited: number): SQL<number> {
  return sql<number>`(select coalesce("products"."max_per_customer" - ${liveUnitsSql(userId)}, ${unlimited})
    from ${products} where "products"."id" = ${productId})`;
}

export interface CustomerLimit {
  max: number;
  /** Units already in the customer's live orders. */
  live: number;
}

/** The product's purchase limit and the units the user (if any) already has in live orders; null when unlimited. */
export async function customerLimitOf(db: Database, productId: number, userId: number | null): Promise<CustomerLimit | null> {
  const [row] = await db
    .select({ max: products.maxPerCustomer, live: userId === null ? sql<number>`0` : liveUnitsSql(userId) })
    .from(products)
    .where(sql`${products.id} = ${productId}`);
  return row?.max == null ? null : { max: row.max, live: Number(row.live) };
}

/** Refuses a cart quantity that, with the customer's live orders, would pass the product's limit. */
export function assertCartWithinLimit(limit: CustomerLimit | null, quantityInCart: number): void {
  if (!limit || limit.live + quantityInCart <= limit.max) return;
  throw overLimit(limit, quantityInCart);
}

const overLimit = (limit: CustomerLimit, wanted: number, name?: string) =>
  fieldError(
    "quantity",
    `${name ?? "This product"} is limited to ${limit.max} per customer: you have ${limit.live} in orders ` +
      `and asked for ${wanted} more.`,
  );

/**
 * Checkout: refuses the order when a line would take its product past the customer's limit. One D1 read, made only
 * when a line's product has a limit; call it once the checkout holds the cart.
 */
export async function assertOrderWithinCustomerLimits(
  db: Database,
  userId: number,
  lines: ReadonlyArray<{ productId: number; quantity: number; name: string; maxPerCustomer: number | null }>,
): Promise<void> {
  const limited = lines.filter((l) => l.maxPerCustomer !== null);
  if (limited.length === 0) return;
  // at most 100 lines per cart (MAX_CART_LINES): one statement
  const rows = await db
    .select({ productId: products.id, max: products.maxPerCustomer, live: liveUnitsSql(userId) })
    .from(products)
    .where(inArray(products.id, limited.map((l) => l.productId)));
  for (const line of limited) {
    const row = rows.find((r) => r.productId === line.productId);
    const limit = { max: row?.max ?? line.maxPerCustomer!, live: Number(row?.live ?? 0) };
    if (limit.live + line.quantity > limit.max) throw overLimit(limit, line.quantity, line.name);
  }
}

export function unpaidUnitsCap(env: Env): number {
  const cap = Number(env.UNPAID_UNITS_PER_IP_PER_PRODUCT ?? "20");
  return Number.isInteger(cap) && cap > 0 ? cap : 20;
}

/** A checkout's units recorded against its client address; `release` gives them back if the checkout fails. */
export interface ClientHold {
  release(): Promise<void>;
}

const noHold: ClientHold = { release: async () => undefined };

/**
 * Records the order's units against the client address, or refuses with 429 when the address would then hold more
 * than the cap of one product in unpaid orders. `clientIp` null (a local request) is not limited.
 */
export async function holdForClient(
  env: Env,
  clientIp: string | null,
  holdKey: string,
  lines: ReadonlyArray<{ productId: number; quantity: number; name: string }>,
): Promise<ClientHold> {
  if (!clientIp) return noHold;
  const ledger = env.CLIENT_HOLDS.getByName(`ip:${clientIp}`, objectLocation(env));
  const cap = unpaidUnitsCap(env);
  const lifetimeMs = (Number(env.PENDING_ORDER_TTL_SECONDS ?? "1800") + 600) * 1000;
  const admission = await ledger.admit({
    holdKey,
    lines: lines.map((l) => ({ productId: l.productId, units: l.quantity })),
    cap,
    lifetimeMs,
    // a checkout writes its order within half its holds' life or not at all (checkout.service.ts)
    inFlightMs: DEFAULT_HOLD_TTL_MS / 2 + 5_000,
  });
  if (!admission.ok) {
    const line = lines.find((l) => l.productId === admission.productId);
    throw new ApiError(
      429,
      {
        code: "throttled",
        detail:
          `Too many units of ${line?.name ?? "this product"} are held in unpaid orders from your network ` +
          `(${admission.held} of at most ${cap}). Pay for or cancel an order, or try again later.`,
      },
      { "Retry-After": String(admission.retryAfterSeconds) },
    );
  }
  return { release: () => ledger.release(holdKey).catch((err) => logError("client hold release failed", err, { holdKey })) };
}

/**
 * Both checks of a checkout that holds its cart: the customer's limits (400 naming `quantity`) and the client
 * address's unpaid units (429). Returns the address's hold, to release if the checkout fails after this.
 */
export async function checkPurchaseLimits(
  env: Env,
  db: Database,
  userId: number,
  clientIp: string | null,
  holdKey: string,
  lines: ReadonlyArray<{ productId: number; quantity: number; name: string; maxPerCustomer: number | null }>,
): Promise<ClientHold> {
  const [customer, client] = await Promise.allSettled([
    assertOrderWithinCustomerLimits(db, userId, lines),
    holdForClient(env, clientIp, holdKey, lines),
  ]);
  if (customer.status === "rejected") {
    if (client.status === "fulfilled") await client.value.release();
    throw customer.reason;
  }
  if (client.status === "rejected") throw client.reason;
  return client.value;
}

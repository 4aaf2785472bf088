/**
 * The merge of an anonymous cart into a user's cart on register and login. It is read while the password is being
 * checked, and written in the same D1 batch as the new session: all or nothing, one round trip.
 */
import { eq, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Context } from "hono";
import type { Database } from "../../db/client";
import { cartItems, guestCartItems, guestCarts } from "../../db/schema";
import type { AppEnv } from "../../env";
import { logError } from "../../lib/log";
import { nowIso } from "../../lib/time";
import { availableStocks } from "../../inventory/inventory.client";
import { loadProductRows } from "../catalog/products.view";
import { unitsLeftSql } from "../orders/purchase-limits";
import { MAX_CART_LINES, MAX_LINE_QUANTITY } from "./cart.schemas";
import { cartIdOf } from "./cart-lines";
import { findGuestCart, forgetGuestCart, guestCartOwner } from "./guest-cart.store";
import { userCartOwner } from "./user-cart.store";

/** An anonymous line to merge, as read before the merge: it adds to the user's line, which never passes `cap`. */
interface MergeLine {
  productId: number;
  cap: number;
}

/**
 * The statements that move an anonymous cart into the user's cart. Each line's quantity is read from the anonymous
 * cart inside the batch, added to the user's line and capped: min(existing + quantity, cap, the units the customer may
 * still buy under `max_per_customer`), never reducing a line already above it, and no new line past MAX_CART_LINES.
 * Then the anonymous cart's lines are deleted and the cart is marked merged, so a retried login, or a merge racing
 * another, adds nothing twice, and a write still in flight with its id gets a 409 (guest-cart.store.ts).
 * `capped` are the lines read before, with their caps (stock now, 999); the other lines read (`readIds`: inactive
 * products, nothing in stock) are dropped; a line added to the anonymous cart after the read (another tab, a few ms)
 * is merged capped at 999, as its add checked the stock.
 */
function mergeStatements(db: Database, userId: number, guestToken: string, readIds: readonly number[], capped: readonly MergeLine[]): BatchItem<"sqlite">[] {
  const owner = userCartOwner(db, userId);
  const guestCartId = cartIdOf(guestCartOwner(db, guestToken));
  const userCartId = cartIdOf(owner);
  const unitsLeft = (productId: SQL, cap: number) => unitsLeftSql(userId, productId, cap);
  const moveLines = (lineFilter: SQL, cap: number) =>
    db
      .insert(cartItems)
      .select(
        // every column, in table order (what Drizzle's insert-select lists): id is assigned, added_at is now
        sql`select null, ${userCartId}, g.product_id, min(g.quantity, ${cap}, ${unitsLeft(sql`g.product_id`, cap)}),
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
          from ${guestCartItems} g where g.cart_id = ${guestCartId} and ${lineFilter}
            and ${unitsLeft(sql`g.product_id`, cap)} > 0
            and (exists (select 1 from ${cartItems} u where u.cart_id = ${userCartId} and u.product_id = g.product_id)
              or (select count(*) from ${cartItems} u where u.cart_id = ${userCartId}) < ${MAX_CART_LINES})`,
      )
      .onConflictDoUpdate({
        target: [cartItems.cartId, cartItems.productId],
        set: {
          quantity: sql`max(${cartItems.quantity}, min(${cartItems.quantity} + excluded.quantity, ${cap},
            ${unitsLeft(sql`${cartItems.productId}`, cap)}))`,
        },
      });
  const now = nowIso();
  return [
    owner.ensureCart(),
    ...capped.map((line) => moveLines(sql`g.product_id = ${line.productId}`, line.cap)),
    // one JSON parameter, not one per id: a full cart (100 lines) stays under D1's 100 bound parameters
    moveLines(sql`g.product_id not in (select value from json_each(${JSON.stringify(readIds)}))`, MAX_LINE_QUANTITY),
    owner.touch(),
    db.delete(guestCartItems).where(sql`${guestCartItems.cartId} = ${guestCartId}`),
    db.update(guestCarts).set({ mergedAt: now, updatedAt: now }).where(eq(guestCarts.token, guestToken)),
  ];
}

/** An anonymous cart read for merging on register or login, before the session is written. */
export interface GuestCartMerge {
  /** The statements that move its lines into the user's cart: in the same D1 batch as the session. */
  statements(db: Database, userId: number): BatchItem<"sqlite">[];
  /** Once that batch committed: the client forgets the anonymous cart (no I/O). */
  finish(): void;
}

/**
 * Reads the caller's anonymous cart (cookie or X-Cart-Id) with its products and their stock, in two waves (its lines,
 * then the products and the inventory objects at once), so it can run while the login is being checked. Each line
 * will add to the user's line, capped by the stock available now and by 999; inactive or deleted products and lines
 * with nothing left under the cap are dropped. Best effort: a failure is logged and the login goes on without a merge
 * (the anonymous cart stays for the next login). Null when there is nothing to merge.
 */
export async function prepareGuestCartMerge(c: Context<AppEnv>): Promise<GuestCartMerge | null> {
  try {
    const guest = await findGuestCart(c);
    if (!guest) return null;
    const productIds = guest.lines.map((line) => line.productId);
    const [products, stocks] = await Promise.all([loadProductRows(c.get("db"), productIds), availableStocks(c.env, productIds)]);
    const capped = productIds
      .filter((productId) => products.get(productId)?.isActive)
      .map((productId) => ({ productId, cap: Math.min(stocks.get(productId) ?? 0, MAX_LINE_QUANTITY) }))
      .filter((line) => line.cap > 0);
    return {
      statements: (db, userId) => mergeStatements(db, userId, guest.token, productIds, capped),
      finish: () => forgetGuestCart(c),
    };
  } catch (err) {
    logError("guest cart merge failed", err, { requestId: c.get("requestId") });
    return null;
  }
}

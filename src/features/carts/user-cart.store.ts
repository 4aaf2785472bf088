/**
 * User carts in D1: one `carts` row per user (unique user_id), one `cart_items` row per product (unique
 * cart_id + product_id); the line operations are cart-lines.ts's. Orders read and clear these tables directly, so
 * their shape is part of the contract between features. Also the merge of an anonymous cart on register and login.
 */
import { eq, notInArray, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { cartItems, carts, guestCartItems, guestCarts } from "../../db/schema";
import { nowIso } from "../../lib/time";
import { unitsLeftSql } from "../orders/purchase-limits";
import { MAX_LINE_QUANTITY } from "./cart.schemas";
import { cartLineStore, type CartOwner, readLines } from "./cart-lines";
import type { CartStore } from "./cart.store";

/** The id of the user's cart, or null when the user has none yet. */
export async function getUserCartId(db: Database, userId: number): Promise<number | null> {
  const row = await db.select({ id: carts.id }).from(carts).where(eq(carts.userId, userId)).get();
  return row?.id ?? null;
}

const userCartOwner = (db: Database, userId: number): CartOwner => ({
  lines: cartItems,
  cartTable: sql`${carts}`,
  ownsCart: sql`c.user_id = ${userId}`,
  readCart: () => db.select({ id: carts.id, createdAt: carts.createdAt, updatedAt: carts.updatedAt }).from(carts).where(eq(carts.userId, userId)).get(),
  ensureCart: () => db.insert(carts).values({ userId }).onConflictDoNothing({ target: carts.userId }),
  touch: () => db.update(carts).set({ updatedAt: nowIso() }).where(eq(carts.userId, userId)),
});

export function userCartStore(db: Database, userId: number): CartStore {
  const owner = userCartOwner(db, userId);
  return {
    ...cartLineStore(db, owner),
    async view() {
      const { cart, lines } = await readLines(db, owner);
      if (cart) return { id: cart.id, lines, createdAt: cart.createdAt, updatedAt: cart.updatedAt };
      // Every user has a cart from the first look on, as in the original. A new cart has no lines, so the row the
      // upsert returns is the whole view (the no-op update makes it return the row a racing request created).
      const [created] = await db
        .insert(carts)
        .values({ userId })
        .onConflictDoUpdate({ target: carts.userId, set: { userId: sql`excluded.user_id` } })
        .returning();
      return { id: created.id, lines: [], createdAt: created.createdAt, updatedAt: created.updatedAt };
    },
  };
}

/** An anonymous line to merge, as read before the merge: it adds to the user's line, which never passes `cap`. */
export interface MergeLine {
  productId: number;
  cap: number;
}

/**
 * The statements that move an anonymous cart into the user's cart, for one atomic batch with the login's or the
 * registration's session: each line's quantity is read from the anonymous cart inside the batch (so a retried
 * login, or a merge racing another, adds nothing twice: the first one deleted the lines), added to the user's line
 * and capped (min(existing + quantity, cap, the units the customer may still buy), never reducing a line already above
 * it); then the anonymous cart is deleted. `lines` are the lines read before, with their caps (stock now, 999); lines
 * read but not listed (inactive products, nothing in stock) are dropped with the cart, and so is a line of a product
 * the customer has bought up to its `max_per_customer` (the anonymous add could not know who was buying); a line added
 * to the anonymous cart after the read (another tab, a few ms) is merged capped at 999, as its add checked the stock.
 */
export function mergeStatements(db: Database, userId: number, guestToken: string, read: readonly number[], lines: readonly MergeLine[]): BatchItem<"sqlite">[] {
  const guestCartId = sql`(select ${guestCarts.id} from ${guestCarts} where ${guestCarts.token} = ${guestToken})`;
  const userCartId = sql`(select ${carts.id} from ${carts} where ${carts.userId} = ${userId})`;
  const moveLines = (which: SQL, cap: number) =>
    db
      .insert(cartItems)
      .select(
        // every column, in table order (what Drizzle's insert-select lists): id is assigned, added_at is now
        sql`select null, ${userCartId}, g.product_id, min(g.quantity, ${cap}, ${unitsLeftSql(userId, sql`g.product_id`, cap)}),
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
          from ${guestCartItems} g where g.cart_id = ${guestCartId} and ${which}
            and ${unitsLeftSql(userId, sql`g.product_id`, cap)} > 0`,
      )
      .onConflictDoUpdate({
        target: [cartItems.cartId, cartItems.productId],
        set: {
          quantity: sql`max(${cartItems.quantity}, min(${cartItems.quantity} + excluded.quantity, ${cap},
            ${unitsLeftSql(userId, sql`${cartItems.productId}`, cap)}))`,
        },
      });
  const unread = read.length > 0 ? notInArray(sql`g.product_id`, [...read]) : sql`1 = 1`;
  const owner = userCartOwner(db, userId);
  return [
    owner.ensureCart(),
    ...lines.map((line) => moveLines(sql`g.product_id = ${line.productId}`, line.cap)),
    moveLines(unread, MAX_LINE_QUANTITY),
    owner.touch(),
    db.delete(guestCarts).where(eq(guestCarts.token, guestToken)),
  ];
}

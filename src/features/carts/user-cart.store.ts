/**
 * User carts in D1: one `carts` row per user (unique user_id), one `cart_items` row per product (unique
 * cart_id + product_id); the line operations are cart-lines.ts's. Orders read and clear these tables directly, so
 * their shape is part of the contract between features.
 */
import { eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { cartItems, carts } from "../../db/schema";
import { nowIso } from "../../lib/time";
import { cartLineStore, type CartOwner, readLines } from "./cart-lines";
import type { CartStore } from "./cart.store";

/** The id of the user's cart, or null when the user has none yet. */
export async function getUserCartId(db: Database, userId: number): Promise<number | null> {
  const row = await db.select({ id: carts.id }).from(carts).where(eq(carts.userId, userId)).get();
  return row?.id ?? null;
}

export const userCartOwner = (db: Database, userId: number): CartOwner => ({
  lines: cartItems,
  cartTable: sql`${carts}`,
  ownsCart: sql`c.user_id = ${userId}`,
  readCart: () => db.select({ id: carts.id, createdAt: carts.createdAt, updatedAt: carts.updatedAt }).from(carts).where(eq(carts.userId, userId)).get(),
  ensureCart: () => db.insert(carts).values({ userId }).onConflictDoNothing({ target: carts.userId }),
  touch: () => db.update(carts).set({ updatedAt: nowIso() }).where(eq(carts.userId, userId)).returning({ id: carts.id }),
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

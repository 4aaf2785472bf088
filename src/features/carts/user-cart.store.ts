/**
 * User carts in D1: one `carts` row per user (unique user_id), one `cart_items` row per product (unique
 * cart_id + product_id). Every write is an upsert or a guarded statement, so concurrent first requests never make
 * two carts and concurrent adds of one product never hit the unique index. Orders read and clear these tables
 * directly, so their shape is part of the contract between features.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { cartItems, carts, categories, guestCartMerges, products } from "../../db/schema";
import { isNotNullViolation } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { cartFull, MAX_CART_LINES } from "./cart.schemas";
import { productListColumns } from "../catalog/products.view";
import type { CartStore, CartView } from "./cart.store";

/** The id of the user's cart, or null when the user has none yet. */
export async function getUserCartId(db: Database, userId: number): Promise<number | null> {
  const row = await db.select({ id: carts.id }).from(carts).where(eq(carts.userId, userId)).get();
  return row?.id ?? null;
}

/** A line to merge in: `quantity` is added to the user's line, which then never exceeds `cap`. */
export interface MergeLine {
  productId: number;
  quantity: number;
  cap: number;
  /** The anonymous line's version: a line version is merged once (a retried login, a stale read of a merged cart). */
  version: string;
}

/**
 * The statements that add lines to the user's cart, for one atomic batch (alone, or with a login's session insert).
 * Each line becomes min(existing + quantity, cap), computed in SQL against the row as it is at write time; a line
 * already above the cap is left alone, never reduced.
 */
export function mergeStatements(db: Database, userId: number, guestCartId: string, lines: readonly MergeLine[]): BatchItem<"sqlite">[] {
  if (lines.length === 0) return [];
  const mergedAt = Date.now();
  const upserts = lines.flatMap((line) => [
    // Guarded by the merge record of this line version, written right after in the same batch: merged at most once.
    db
      .insert(cartItems)
      .select(
        // every column, in table order (what Drizzle's insert-select lists): id is assigned, added_at is now
        sql`select null, ${cartIdOf(userId)}, ${line.productId}, ${Math.min(line.quantity, line.cap)}, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
          where not exists (select 1 from ${guestCartMerges} where ${guestCartMerges.cartId} = ${guestCartId}
            and ${guestCartMerges.productId} = ${line.productId} and ${guestCartMerges.version} = ${line.version})`,
      )
      .onConflictDoUpdate({
        target: [cartItems.cartId, cartItems.productId],
        set: { quantity: sql`max(${cartItems.quantity}, min(${cartItems.quantity} + excluded.quantity, ${line.cap}))` },
      }),
    db
      .insert(guestCartMerges)
      .values({ cartId: guestCartId, productId: line.productId, version: line.version, mergedAt })
      .onConflictDoNothing(),
  ]);
  return [ensureCart(db, userId), ...upserts, touch(db, userId)];
}

export function userCartStore(db: Database, userId: number): CartStore {
  const ownItem = (itemId: number) => and(eq(cartItems.id, itemId), eq(cartItems.cartId, cartIdOf(userId)));

  const readView = async (): Promise<CartView | null> => {
    // Not a db.batch: Drizzle maps batched rows by column name, which mixes up the joined tables' `id` and `name`.
    const [cart, lines] = await Promise.all([
      db.select().from(carts).where(eq(carts.userId, userId)).get(),
      db
        .select({ id: cartItems.id, quantity: cartItems.quantity, addedAt: cartItems.addedAt, product: productListColumns })
        .from(cartItems)
        .innerJoin(products, eq(products.id, cartItems.productId))
        .innerJoin(categories, eq(categories.id, products.categoryId))
        .where(eq(cartItems.cartId, cartIdOf(userId)))
        .orderBy(cartItems.id),
    ]);
    return cart ? { id: cart.id, lines, createdAt: cart.createdAt, updatedAt: cart.updatedAt } : null;
  };

  return {
    async view() {
      const existing = await readView();
      if (existing) return existing;
      // Every user has a cart from the first look on, as in the original. A new cart has no lines, so the row the
      // upsert returns is the whole view (the no-op update makes it return the row a racing request created).
      const [cart] = await db
        .insert(carts)
        .values({ userId })
        .onConflictDoUpdate({ target: carts.userId, set: { userId: sql`excluded.user_id` } })
        .returning();
      return { id: cart.id, lines: [], createdAt: cart.createdAt, updatedAt: cart.updatedAt };
    },
    async quantityOf(productId) {
      const row = await db
        .select({ quantity: cartItems.quantity })
        .from(cartItems)
        .where(and(eq(cartItems.cartId, cartIdOf(userId)), eq(cartItems.productId, productId)))
        .get();
      return row?.quantity ?? 0;
    },
    async add(productId, qty, cap) {
      // The WHERE re-checks the cap against the row as it is now, so two concurrent adds cannot both pass it; a new
      // line in a full cart gets a NULL cart id, so its NOT NULL constraint refuses it inside the same statement.
      const [, added] = await db
        .batch([
          ensureCart(db, userId),
          db
            .insert(cartItems)
            .values({ cartId: cartIdWithRoomFor(userId, productId), productId, quantity: qty })
            .onConflictDoUpdate({
              target: [cartItems.cartId, cartItems.productId],
              set: { quantity: sql`${cartItems.quantity} + excluded.quantity` },
              setWhere: sql`${cartItems.quantity} + excluded.quantity <= ${cap}`,
            })
            .returning({ id: cartItems.id }),
          touch(db, userId),
        ])
        .catch((err) => {
          throw isNotNullViolation(err, "cart_items.cart_id") ? cartFull() : err;
        });
      return added.length > 0;
    },
    async productOfItem(itemId) {
      const row = await db.select({ productId: cartItems.productId }).from(cartItems).where(ownItem(itemId)).get();
      return row?.productId ?? null;
    },
    async setQuantity(itemId, qty) {
      const updated = await db.update(cartItems).set({ quantity: qty }).where(ownItem(itemId)).returning({ id: cartItems.id });
      if (updated.length > 0) await touch(db, userId);
      return updated.length > 0;
    },
    async remove(itemId) {
      const removed = await db.delete(cartItems).where(ownItem(itemId)).returning({ id: cartItems.id });
      if (removed.length > 0) await touch(db, userId);
      return removed.length > 0;
    },
    async clear() {
      await db.batch([
        db.delete(cartItems).where(eq(cartItems.cartId, cartIdOf(userId))),
        touch(db, userId),
      ]);
    },
  };
}

/** The user's cart id as a subquery, so a statement needs no earlier round trip to learn it. */
const cartIdOf = (userId: number): SQL => sql`(select ${carts.id} from ${carts} where ${carts.userId} = ${userId})`;

/** The cart id, or NULL when the cart already has MAX_CART_LINES lines and none of them is this product. */
const cartIdWithRoomFor = (userId: number, productId: number): SQL => sql`(select c.id from ${carts} c where c.user_id = ${userId}
  and ((select count(*) from ${cartItems} i where i.cart_id = c.id) < ${MAX_CART_LINES}
    or exists (select 1 from ${cartItems} i where i.cart_id = c.id and i.product_id = ${productId})))`;

/** Creates the user's cart unless it exists; safe against concurrent first requests (unique user_id). */
const ensureCart = (db: Database, userId: number) => db.insert(carts).values({ userId }).onConflictDoNothing({ target: carts.userId });

const touch = (db: Database, userId: number): BatchItem<"sqlite"> =>
  db.update(carts).set({ updatedAt: nowIso() }).where(eq(carts.userId, userId));

/**
 * The cart operations both kinds of cart share: user carts (`carts` + `cart_items`) and anonymous carts
 * (`guest_carts` + `guest_cart_items`) are the same shape in D1 and differ only in how their cart row is found.
 * Every write is one statement or one batch that re-checks its rule against the rows as they are at write time, so
 * concurrent requests never make two carts, never hit the unique index, never pass the per-line cap or the line
 * limit together, and never rewrite a line they did not change.
 */
import { and, eq, getTableName, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { type CartLinesTable, categories, products } from "../../db/schema";
import { isNotNullViolation } from "../../lib/errors";
import { productListColumns } from "../catalog/products.view";
import { cartFull, MAX_CART_LINES } from "./cart.schemas";
import type { CartLineView, CartStore } from "./cart.store";

/** The cart row's own fields, as every view shows them. */
export interface CartRow {
  id: number;
  createdAt: string;
  updatedAt: string;
}

/** How one cart is found and kept: the only part that differs between user and anonymous carts. */
export interface CartOwner {
  lines: CartLinesTable;
  /** The cart's table name, for the cap subquery (`c.id` of that table). */
  cartTable: SQL;
  /** The condition on `c` (an alias of the cart table) that picks this owner's cart. */
  ownsCart: SQL;
  /** The cart row, or undefined when it does not exist yet. */
  readCart(): Promise<CartRow | undefined>;
  /** Creates the cart row unless it exists; safe against concurrent first requests (a unique key). */
  ensureCart(): BatchItem<"sqlite">;
  /** Sets the cart row's `updated_at`; returns the row's id, none when there is no cart. */
  touch(): BatchItem<"sqlite"> & PromiseLike<Array<{ id: number }>>;
}

/** The owner's cart id as a subquery, so a statement needs no earlier round trip to learn it (NULL: no cart). */
export const cartIdOf = (owner: CartOwner): SQL => sql`(select c.id from ${owner.cartTable} c where ${owner.ownsCart})`;

/** The line operations of a CartStore over `owner`'s cart; `view` is the owner's to build (see readLines). */
export function cartLineStore(db: Database, owner: CartOwner): Omit<CartStore, "view"> {
  const { lines } = owner;
  const cartId = cartIdOf(owner);
  // The cart id, or NULL when the cart already has MAX_CART_LINES lines and none of them is this product: the NOT NULL
  // constraint then refuses the new line inside the same statement.
  const cartIdWithRoomFor = (productId: number) => sql`(select c.id from ${owner.cartTable} c where ${owner.ownsCart}
    and ((select count(*) from ${lines} i where i.cart_id = c.id) < ${MAX_CART_LINES}
      or exists (select 1 from ${lines} i where i.cart_id = c.id and i.product_id = ${productId})))`;
  const ownLine = (itemId: number) => and(eq(lines.id, itemId), sql`${lines.cartId} = ${cartId}`);

  return {
    async quantityOf(productId) {
      const row = await db
        .select({ quantity: lines.quantity })
        .from(lines)
        .where(and(sql`${lines.cartId} = ${cartId}`, eq(lines.productId, productId)))
        .get();
      return row?.quantity ?? 0;
    },
    async add(productId, qty, cap) {
      // The upsert's WHERE re-checks the cap against the line as it is now, so two concurrent adds cannot both pass it.
      const [, added] = await db
        .batch([
          owner.ensureCart(),
          db
            .insert(lines)
            .values({ cartId: cartIdWithRoomFor(productId), productId, quantity: qty })
            .onConflictDoUpdate({
              target: [lines.cartId, lines.productId],
              set: { quantity: sql`${lines.quantity} + excluded.quantity` },
              setWhere: sql`${lines.quantity} + excluded.quantity <= ${cap}`,
            })
            .returning({ id: lines.id }),
          owner.touch(),
        ])
        .catch((err) => {
          throw isNotNullViolation(err, `${getTableName(lines)}.cart_id`) ? cartFull() : err;
        });
      return added.length > 0;
    },
    async productOfItem(itemId) {
      const row = await db.select({ productId: lines.productId }).from(lines).where(ownLine(itemId)).get();
      return row?.productId ?? null;
    },
    async setQuantity(itemId, qty) {
      const updated = await db.update(lines).set({ quantity: qty }).where(ownLine(itemId)).returning({ id: lines.id });
      if (updated.length > 0) await owner.touch();
      return updated.length > 0;
    },
    async remove(itemId) {
      const removed = await db.delete(lines).where(ownLine(itemId)).returning({ id: lines.id });
      if (removed.length > 0) await owner.touch();
      return removed.length > 0;
    },
    async clear() {
      const [, touched] = await db.batch([db.delete(lines).where(sql`${lines.cartId} = ${cartId}`), owner.touch()]);
      return (touched as unknown[]).length > 0;
    },
  };
}

/** The cart row and its lines joined to the catalogue as it is now, in insertion (line id) order, read at once. */
export async function readLines(db: Database, owner: CartOwner): Promise<{ cart: CartRow | undefined; lines: CartLineView[] }> {
  const { lines } = owner;
  // Not a db.batch: Drizzle maps batched rows by column name, which mixes up the joined tables' `id` and `name`.
  const [cart, rows] = await Promise.all([
    owner.readCart(),
    db
      .select({ id: lines.id, quantity: lines.quantity, addedAt: lines.addedAt, product: productListColumns })
      .from(lines)
      .innerJoin(products, eq(products.id, lines.productId))
      .innerJoin(categories, eq(categories.id, products.categoryId))
      .where(sql`${lines.cartId} = ${cartIdOf(owner)}`)
      .orderBy(lines.id),
  ]);
  return { cart, lines: rows };
}


/**
 * Product writes and the detail view. Stock belongs to the product's inventory Durable Object: create and update
 * set it there, and the object writes the D1 `stock` projection (versioned) that lists and filters read. A new
 * product's row already carries its initial stock, so even if the object call fails the object later seeds itself
 * from that same number. The detail view shows the object's count, the exact one.
 */
import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { products, type Product } from "../../db/schema";
import { errorMessage, fieldError, isForeignKeyViolation, notFound } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import { nowIso } from "../../lib/time";
import { availableStock, setStock } from "../../inventory/inventory.client";
import { categoryById } from "./categories.service";
import type { ProductDetailOut, ProductInput } from "./products.schemas";
import { slugify, uniqueSlugSql } from "./slug";

/** A write that names a category id that does not exist fails the foreign key; DRF words it this way. */
function unknownCategory(err: unknown, category: number | undefined): never {
  if (isForeignKeyViolation(err)) throw fieldError("category", `Invalid pk "${category}" - object does not exist.`);
  throw err;
}

export type ProductCreateInput = Required<Pick<ProductInput, "name" | "price" | "category" | "stock" | "is_active">> & ProductInput;

export async function createProduct(db: Database, env: Env, input: ProductCreateInput): Promise<number> {
  let created: { id: number };
  try {
    [created] = await db
      .insert(products)
      .values({
        name: input.name,
        slug: uniqueSlugSql(products, slugify(input.name, "product")),
        description: input.description ?? null,
        pricePaise: input.price,
        stock: input.stock,
        imageUrl: input.image_url ?? null,
        isActive: input.is_active,
        categoryId: input.category,
      })
      .returning({ id: products.id });
  } catch (err) {
    unknownCategory(err, input.category);
  }
  await setStock(env, created.id, input.stock);
  return created.id;
}

/** Updates the given fields (the slug stays); a new `stock` goes through the inventory object. */
export async function updateProduct(db: Database, env: Env, id: number, input: ProductInput): Promise<void> {
  let updated: { id: number }[];
  try {
    updated = await db
      .update(products)
      .set({
        name: input.name,
        description: input.description,
        pricePaise: input.price,
        imageUrl: input.image_url,
        isActive: input.is_active,
        categoryId: input.category,
        updatedAt: nowIso(),
      })
      .where(eq(products.id, id))
      .returning({ id: products.id });
  } catch (err) {
    unknownCategory(err, input.category);
  }
  if (updated.length === 0) throw notFound();
  if (input.stock !== undefined) await setStock(env, id, input.stock);
}

/** Deletes a product and its cart lines; one that orders reference stays (order history keeps its rows). */
export async function deleteProduct(db: Database, id: number): Promise<void> {
  let deleted: { id: number }[];
  try {
    deleted = await db.delete(products).where(eq(products.id, id)).returning({ id: products.id });
  } catch (err) {
    if (!isForeignKeyViolation(err)) throw err;
    throw errorMessage(400, "Cannot delete a product that appears in orders. Set is_active to false to hide it instead.");
  }
  if (deleted.length === 0) throw notFound();
}

/** ProductDetail with its category tree and the inventory object's stock; inactive products only for admins. */
export async function productDetail(db: Database, env: Env, id: number, includeInactive: boolean): Promise<ProductDetailOut> {
  const [row] = await db
    .select()
    .from(products)
    .where(and(eq(products.id, id), includeInactive ? undefined : eq(products.isActive, true)));
  if (!row) throw notFound();
  const [category, stock] = await Promise.all([categoryById(db, row.categoryId), availableStock(env, id)]);
  return toProductDetailOut(row, category, stock);
}

const toProductDetailOut = (row: Product, category: ProductDetailOut["category"], stock: number): ProductDetailOut => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  description: row.description,
  price: formatMoney(row.pricePaise),
  stock,
  image_url: row.imageUrl,
  is_active: row.isActive,
  category,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

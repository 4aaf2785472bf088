/**
 * Product writes and the detail view. Stock belongs to the product's inventory Durable Object: create and update
 * set it there, and the object writes the D1 `stock` projection (versioned) that lists and filters read. A new
 * product's row already carries its initial stock, so even if the object call fails the object later seeds itself
 * from that same number. The detail view shows the object's count, the exact one.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { categories, products, type Product } from "../../db/schema";
import { sha256Hex } from "../../lib/crypto";
import { detail, errorMessage, fieldError, isForeignKeyViolation, notFound } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import { assertNoFieldErrors, type FieldErrors } from "../../lib/openapi";
import { nowIso } from "../../lib/time";
import { adjustStock, inventoryOf, setStock, setStockIf, setStockShards } from "../../inventory/inventory.client";
import type { StockWriteResult } from "../../inventory/inventory.do";
import { categorySubtreeQuery, renderSubtree } from "./categories.service";
import type { ProductDetailOut, ProductInput } from "./products.schemas";
import { slugify, uniqueSlugSql } from "./slug";

const invalidCategory = (category: unknown) => `Invalid pk "${category}" - object does not exist.`;

/**
 * The field check of a product write that needs D1: a category that does not exist. It runs beside the schema's own
 * checks (see `withFieldChecks`), so one 400 names every failing field, as DRF's does.
 */
export async function productFieldErrors(db: Database, { category }: ProductInput): Promise<FieldErrors> {
  if (category === undefined) return {};
  const [found] = await db.select({ id: categories.id }).from(categories).where(eq(categories.id, category));
  return found ? {} : { category: [invalidCategory(category)] };
}

/** A write whose category was deleted since `productFieldErrors` fails the foreign key; DRF words it this way. */
function unknownCategory(err: unknown, category: number | undefined): never {
  if (isForeignKeyViolation(err)) throw fieldError("category", invalidCategory(category));
  throw err;
}

export type ProductCreateInput = Required<Pick<ProductInput, "name" | "price" | "category" | "stock" | "is_active" | "stock_shards">> & ProductInput;

export async function createProduct(db: Database, env: Env, input: ProductCreateInput): Promise<number> {
  assertNoFieldErrors(await productFieldErrors(db, input));
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
        stockShards: input.stock_shards,
        imageUrl: input.image_url ?? null,
        isActive: input.is_active,
        maxPerCustomer: input.max_per_customer ?? null,
        lowStockThreshold: input.low_stock_threshold ?? null,
        categoryId: input.category,
      })
      .returning({ id: products.id });
  } catch (err) {
    unknownCategory(err, input.category);
  }
  await setStock(env, created.id, input.stock);
  if (input.stock_shards > 1) await setStockShards(env, created.id, input.stock_shards);
  return created.id;
}

/**
 * Updates the given fields (the slug stays). Stock goes through the inventory object: `stock` sets it,
 * `stock_adjustment` adds to it (decided in the object, never below zero). With `ifMatch` (the ETag the admin's form
 * was loaded with) the whole write is conditional: a product that changed since, a sale included, answers 412 and
 * keeps every field; the stock write is conditional on the stock that ETag showed, inside the object.
 */
export async function updateProduct(db: Database, env: Env, id: number, input: ProductInput, ifMatch?: string): Promise<void> {
  const errors = await productFieldErrors(db, input);
  if (input.stock !== undefined && input.stock_adjustment !== undefined) {
    errors.stock_adjustment = ["Send either stock or stock_adjustment, not both."];
  }
  assertNoFieldErrors(errors);
  const seen = ifMatch === undefined ? null : await requireUnchanged(db, id, ifMatch);
  // The stock is written before the fields: an id that names no product must never reach an inventory object, which
  // would start holding stock for a product that does not exist yet (and not seed itself from the real one later).
  if (!seen && (input.stock !== undefined || input.stock_adjustment !== undefined)) await requireProduct(db, id);
  const stockWrite = await writeStock(env, id, input, seen);
  // Fewer shards: the units leave the retiring shards before D1 (which checkouts read) names fewer; more shards: D1
  // first, so checkouts already look at the new shards when units arrive there. Either way no checkout misses a unit.
  const shardsBefore = input.stock_shards === undefined ? undefined : (await inventoryOf(env, id).getStock(id)).shards;
  const shrink = shardsBefore !== undefined && input.stock_shards! < shardsBefore;
  if (shrink) await setStockShards(env, id, input.stock_shards!);
  try {
    const updated = await db
      .update(products)
      .set({
        name: input.name,
        description: input.description,
        pricePaise: input.price,
        imageUrl: input.image_url,
        isActive: input.is_active,
        maxPerCustomer: input.max_per_customer,
        lowStockThreshold: input.low_stock_threshold,
        categoryId: input.category,
        stockShards: input.stock_shards,
        updatedAt: nowIso(),
      })
      .where(and(eq(products.id, id), seen ? eq(products.updatedAt, seen.updated_at) : undefined))
      .returning({ id: products.id })
      .catch((err) => unknownCategory(err, input.category));
    if (updated.length === 0) throw seen ? preconditionFailed() : notFound();
  } catch (err) {
    // The fields were refused after the stock was written: put the stock back, unless it moved again meanwhile.
    if (stockWrite) await setStockIf(env, id, stockWrite.after, stockWrite.before).catch(() => undefined);
    if (shrink) await setStockShards(env, id, shardsBefore!).catch(() => undefined);
    throw err;
  }
  if (shardsBefore !== undefined && !shrink && input.stock_shards !== shardsBefore) await setStockShards(env, id, input.stock_shards!);
}

async function requireProduct(db: Database, id: number): Promise<void> {
  const [found] = await db.select({ id: products.id }).from(products).where(eq(products.id, id));
  if (!found) throw notFound();
}

/** The product as the client's ETag described it, or 412 when it has changed since (or the ETag is not its own). */
async function requireUnchanged(db: Database, id: number, ifMatch: string): Promise<ProductDetailOut> {
  const current = await productDetail(db, id, true);
  if (!etagMatches(ifMatch, await productEtag(current))) throw preconditionFailed();
  return current;
}

/** Writes the stock the input asks for, if any; returns the available units before and after, to undo it. */
async function writeStock(env: Env, id: number, input: ProductInput, seen: ProductDetailOut | null) {
  let result: StockWriteResult;
  if (input.stock_adjustment !== undefined) {
    result = await adjustStock(env, id, input.stock_adjustment);
    if (!result.ok) throw fieldError("stock_adjustment", `Only ${result.previous} in stock; cannot remove ${-input.stock_adjustment}.`);
  } else if (input.stock !== undefined) {
    result = seen ? await setStockIf(env, id, seen.stock, input.stock) : await setStock(env, id, input.stock);
    if (!result.ok) throw preconditionFailed();
  } else {
    return null;
  }
  return { before: result.previous, after: result.snapshot.available };
}

const preconditionFailed = () => detail(412, "The product has changed since it was loaded. Reload it and try again.");

/** An ETag of the detail view: any change a client can see (fields, stock, category) changes it. */
export async function productEtag(view: ProductDetailOut): Promise<string> {
  return `"${await sha256Hex(JSON.stringify(view))}"`;
}

/** `If-Match` holds `*` or a list of strong ETags (RFC 9110: a weak one never matches a write's precondition). */
function etagMatches(ifMatch: string, etag: string): boolean {
  if (ifMatch.trim() === "*") return true;
  return (ifMatch.match(/(W\/)?"[^"]*"/g) ?? []).some((tag) => tag === etag);
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

/**
 * ProductDetail with its category tree, in one D1 round trip (a batch of the product and its category subtree), with
 * stock from the D1 projection, which every stock change keeps current: no Durable Object call, so the detail can be
 * served by a read replica and cached like the listings. Inactive products only for admins.
 */
export async function productDetail(db: Database, id: number, includeInactive: boolean): Promise<ProductDetailOut> {
  const [[row], categoryRows] = await db.batch([
    db
      .select()
      .from(products)
      .where(and(eq(products.id, id), includeInactive ? undefined : eq(products.isActive, true))),
    categorySubtreeQuery(db, sql`${categories.id} = (select ${products.categoryId} from ${products} where ${products.id} = ${id})`),
  ]);
  if (!row) throw notFound();
  return toProductDetailOut(row, renderSubtree(categoryRows, (c) => c.id === row.categoryId), row.stock);
}

const toProductDetailOut = (row: Product, category: ProductDetailOut["category"], stock: number): ProductDetailOut => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  description: row.description,
  low_stock_threshold: row.lowStockThreshold,
  price: formatMoney(row.pricePaise),
  stock,
  image_url: row.imageUrl,
  is_active: row.isActive,
  category,
  stock_shards: row.stockShards,
  max_per_customer: row.maxPerCustomer,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

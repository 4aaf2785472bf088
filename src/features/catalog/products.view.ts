/**
 * The ProductList shape (used by the catalogue, carts, orders and analytics) and the one query that loads it by id.
 */
import { z } from "@hono/zod-openapi";
import { eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { categories, products } from "../../db/schema";
import { formatMoney, money } from "../../lib/money";
import { readOnly } from "../../lib/openapi";

export const ProductListSchema = z
  .object({
    id: readOnly(z.number().int()),
    name: z.string(),
    slug: readOnly(z.string()),
    price: money,
    stock: z.number().int(),
    image_url: z.string().nullable(),
    is_active: z.boolean(),
    category_name: readOnly(z.string()),
    created_at: readOnly(z.string()),
  })
  .openapi("ProductList");

export type ProductListOut = z.infer<typeof ProductListSchema>;

/** A product row joined with its category name. */
export interface ProductListRow {
  id: number;
  name: string;
  slug: string;
  pricePaise: number;
  stock: number;
  imageUrl: string | null;
  isActive: boolean;
  categoryName: string;
  createdAt: string;
}

export const productListColumns = {
  id: products.id,
  name: products.name,
  slug: products.slug,
  pricePaise: products.pricePaise,
  stock: products.stock,
  imageUrl: products.imageUrl,
  isActive: products.isActive,
  // Aliased: inside db.batch() Drizzle maps D1 rows by column name, and an unaliased categories.name would
  // overwrite products.name.
  categoryName: sql<string>`${categories.name}`.as("category_name"),
  createdAt: products.createdAt,
};

export const toProductListOut = (row: ProductListRow): ProductListOut => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  price: formatMoney(row.pricePaise),
  stock: row.stock,
  image_url: row.imageUrl,
  is_active: row.isActive,
  category_name: row.categoryName,
  created_at: row.createdAt,
});

/** Products by id with their category names, in one query (chunked under D1's 100-parameter limit). */
export async function loadProductRows(db: Database, ids: readonly number[]): Promise<Map<number, ProductListRow>> {
  const unique = [...new Set(ids)];
  const out = new Map<number, ProductListRow>();
  for (let i = 0; i < unique.length; i += 90) {
    const rows = await db
      .select(productListColumns)
      .from(products)
      .innerJoin(categories, eq(categories.id, products.categoryId))
      .where(inArray(products.id, unique.slice(i, i + 90)));
    for (const row of rows) out.set(row.id, row);
  }
  return out;
}

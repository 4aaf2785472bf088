/**
 * The catalogue's read queries over the D1 projection (stock included). A list page costs one D1 round trip: the
 * rows (joined with category names, never one query per product) and the count go in one batch. The filters map
 * onto the products indexes (is_active with created_at / price / name / stock, category with created_at) and
 * onto the trigram FTS5 index for search; no LIKE '%x%' scan unless a search has only one- or two-letter terms.
 */
import { and, asc, desc, eq, gt, gte, lt, lte, sql, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client";
import { categories, products } from "../../db/schema";
import type { PageRequest } from "../../lib/pagination";
import type { OrderingKey } from "./products.schemas";
import { searchPlan } from "./products.search";
import { productListColumns, type ProductListRow } from "./products.view";

export const LOW_STOCK_THRESHOLD = 10;
const FEATURED_COUNT = 10;

export interface ProductFilters {
  /** Anonymous callers and customers see active products only; admins see all. */
  activeOnly: boolean;
  searchTerms?: string[];
  /** Slug of the product's own category (not its descendants, as in the original). */
  category?: string;
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
}

const NEWEST_FIRST: OrderingKey[] = [{ field: "created_at", desc: true }];
const orderColumns = { price: products.pricePaise, created_at: products.createdAt, name: products.name };

/** The FTS5 query and the WHERE conditions of one filter set. */
function compile(filters: ProductFilters) {
  const plan = searchPlan(filters.searchTerms ?? []);
  const conditions: (SQL | undefined)[] = [
    filters.activeOnly ? eq(products.isActive, true) : undefined,
    plan.match === null ? undefined : sql`products_fts MATCH ${plan.match}`,
    ...plan.likePatterns.map(
      (pattern) => sql`(${products.name} LIKE ${pattern} ESCAPE '\\' OR ${products.description} LIKE ${pattern} ESCAPE '\\')`,
    ),
    filters.category === undefined
      ? undefined
      : sql`${products.categoryId} = (SELECT ${categories.id} FROM ${categories} WHERE ${categories.slug} = ${filters.category})`,
    filters.minPrice === undefined ? undefined : gte(products.pricePaise, filters.minPrice),
    filters.maxPrice === undefined ? undefined : lte(products.pricePaise, filters.maxPrice),
    filters.inStock ? gt(products.stock, 0) : undefined,
  ];
  return { match: plan.match, where: and(...conditions) };
}

const ftsJoin = sql`products_fts`;
const ftsOnProduct = sql`products_fts.rowid = ${products.id}`;

/**
 * Rows of one page. With a search and no explicit ordering, the best matches come first (bm25 via FTS5's `rank`);
 * otherwise `ordering` (default newest first). `id` breaks ties so pages never overlap or skip rows.
 */
function selectRows(db: Database, filters: ProductFilters, ordering: OrderingKey[] | undefined, limit: number, offset: number) {
  const { match, where } = compile(filters);
  const byRank = match !== null && !ordering?.length;
  const keys = ordering?.length ? ordering : NEWEST_FIRST;
  const orderBy = byRank
    ? [sql`products_fts.rank`, asc(products.id)]
    : [...keys.map((k) => (k.desc ? desc(orderColumns[k.field]) : asc(orderColumns[k.field]))), keys[0].desc ? desc(products.id) : asc(products.id)];
  let query = db.select(productListColumns).from(products).innerJoin(categories, eq(categories.id, products.categoryId)).$dynamic();
  if (match !== null) query = query.innerJoin(ftsJoin, ftsOnProduct);
  return query
    .where(where)
    .orderBy(...orderBy)
    .limit(limit)
    .offset(offset);
}

function selectCount(db: Database, filters: ProductFilters) {
  const { match, where } = compile(filters);
  let query = db.select({ count: sql<number>`count(*)` }).from(products).$dynamic();
  if (match !== null) query = query.innerJoin(ftsJoin, ftsOnProduct);
  return query.where(where);
}

/** One page of the list and the total count, in one D1 round trip. */
export async function listProducts(
  db: Database,
  filters: ProductFilters,
  ordering: OrderingKey[] | undefined,
  page: PageRequest,
): Promise<{ count: number; rows: ProductListRow[] }> {
  const [rows, [{ count }]] = await db.batch([selectRows(db, filters, ordering, page.limit, page.offset), selectCount(db, filters)]);
  return { count, rows };
}

/** The 10 newest active products (the original promised "latest 10" but returned the oldest). */
export function featuredProducts(db: Database, filters: Omit<ProductFilters, "activeOnly" | "searchTerms">): Promise<ProductListRow[]> {
  return selectRows(db, { ...filters, activeOnly: true }, NEWEST_FIRST, FEATURED_COUNT, 0);
}

/** Active products with fewer than 10 units in the projection, the emptiest first. */
export function lowStockProducts(db: Database): Promise<ProductListRow[]> {
  return db
    .select(productListColumns)
    .from(products)
    .innerJoin(categories, eq(categories.id, products.categoryId))
    .where(and(eq(products.isActive, true), lt(products.stock, LOW_STOCK_THRESHOLD)))
    .orderBy(asc(products.stock), asc(products.id));
}

/**
 * The catalogue's read queries over the D1 projection (stock included). A list page costs one D1 round trip: the
 * rows (joined with category names, never one query per product) and the count go in one batch. The count reads
 * one maintained row (catalog_counts, kept exact by triggers) unless a search or a price bound is in the filter set. The filters map
 * onto the products indexes (is_active with created_at / price / name / stock, category with created_at) and
 * onto the trigram FTS5 index for search; no LIKE '%x%' scan unless a search has only one- or two-letter terms.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, lte, sql, type SQL } from "drizzle-orm";
import { integer, real, sqliteTable, text, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "../../db/client";
import { categories, products } from "../../db/schema";
import type { PageRequest } from "../../lib/pagination";
import type { OrderingField, OrderingKey } from "./products.schemas";
import { isolateMemo } from "./catalog.cache";
import { lowStockIds } from "./low-stock";
import { searchPlan } from "./products.search";
import { productListColumns, type ProductListRow } from "./products.view";

const FEATURED_COUNT = 10;

export interface ProductFilters {
  /** Anonymous callers and customers see active products only; admins see all. */
  activeOnly: boolean;
  /** Admins: only the inactive (hidden) products. */
  inactiveOnly?: boolean;
  searchTerms?: string[];
  /** Slug of the product's own category (not its descendants, as in the original). */
  category?: string;
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
}

/**
 * The FTS5 index of migrations/0001 (external content, trigram, kept in sync by triggers), declared here with only
 * what queries read. It is not in schema.ts because drizzle-kit must not try to manage a virtual table.
 */
const productsFts = sqliteTable("products_fts", { rowid: integer("rowid").notNull(), rank: real("rank").notNull() });

/** Product counts per scope, maintained by the triggers of migrations/0004 (also outside drizzle-kit's reach). */
export const catalogCounts = sqliteTable("catalog_counts", { scope: text("scope").notNull(), n: integer("n").notNull() });

const NEWEST_FIRST: OrderingKey[] = [{ field: "created_at", desc: true }];
const orderColumns = { price: products.pricePaise, created_at: products.createdAt, name: products.name };

/**
 * Which index may serve each filter. Without statistics (no ANALYZE has run) SQLite takes any index that matches
 * a condition, e.g. (is_active, stock) for `in_stock`, then sorts ~90,000 rows to return 50 (~120 ms at 100,000
 * products). So only the index we choose stays usable; the other columns are wrapped in unary `+`, SQLite's way to
 * keep a condition out of index selection:
 * - a search: the FTS matches drive the query (see selectFrom) and products are read by primary key;
 * - a category: (category_id, created_at), a few thousand rows at most;
 * - otherwise the index of the ORDER BY, (is_active, created_at | price | name), walked in order until the page is full;
 * - a count with no category may use any (is_active, price | stock) index: they cover it.
 */
function indexPlan(filters: ProductFilters, match: string | null, sortedBy: OrderingField | "count") {
  const byCategory = match === null && filters.category !== undefined;
  return {
    isActive: !byCategory,
    price: !byCategory && (sortedBy === "price" || sortedBy === "count"),
    stock: !byCategory && sortedBy === "count",
  };
}

const usable = (column: SQLiteColumn, indexable: boolean) => (indexable ? sql`${column}` : sql`+${column}`);

/** The FTS5 query and the WHERE conditions of one filter set. */
function compile(filters: ProductFilters, sortedBy: OrderingField | "count") {
  const plan = searchPlan(filters.searchTerms ?? []);
  const use = indexPlan(filters, plan.match, sortedBy);
  const conditions: (SQL | undefined)[] = [
    filters.activeOnly ? sql`${usable(products.isActive, use.isActive)} = 1` : undefined,
    filters.inactiveOnly ? sql`${usable(products.isActive, use.isActive)} = 0` : undefined,
    plan.match === null ? undefined : sql`${productsFts} MATCH ${plan.match}`,
    plan.match === null ? undefined : eq(productsFts.rowid, products.id),
    ...plan.likePatterns.map(
      (pattern) => sql`(${products.name} LIKE ${pattern} ESCAPE '\\' OR ${products.description} LIKE ${pattern} ESCAPE '\\')`,
    ),
    filters.category === undefined
      ? undefined
      : sql`${products.categoryId} = (SELECT ${categories.id} FROM ${categories} WHERE ${categories.slug} = ${filters.category})`,
    filters.minPrice === undefined ? undefined : gte(usable(products.pricePaise, use.price), filters.minPrice),
    filters.maxPrice === undefined ? undefined : lte(usable(products.pricePaise, use.price), filters.maxPrice),
    filters.inStock ? gt(usable(products.stock, use.stock), 0) : undefined,
  ];
  return { match: plan.match, where: and(...conditions) };
}

/**
 * The rule of a search at catalogue scale: a search looks at the SEARCH_CANDIDATES (100) newest matching products
 * that pass the other filters, ranks them best match first (bm25, FTS5's `rank`; or sorts them by `ordering`), and
 * `count` counts them. Almost every search (a product name, a brand, two words) matches fewer and is ranked and
 * counted whole, as before. A very common word ("premium": 4,839 of 100,000 products) is not scored, sorted and
 * counted over every match any more: that read ~29,600 rows per search; the newest 100 read ~600 at any catalogue
 * size. A shopper refines a search rather than paging past the second page, and the newest matches are the ones on
 * sale now. The walk is the FTS index backwards by rowid (ids grow with creation; a CROSS JOIN keeps SQLite's join
 * order, since the planner left alone may walk a products index and probe the FTS index once per row: 18 s for a
 * count over 100,000 products), so it stops at the bound and bm25 scores only the rows kept. A search of only one-
 * and two-letter terms walks the (is_active | category, created_at) index instead, newest first, with LIKE.
 */
export const SEARCH_CANDIDATES = 100;

function searchCandidates(db: Database, filters: ProductFilters, withRank: boolean) {
  const { match, where } = compile(filters, "created_at");
  if (match === null) {
    return db.select({ id: products.id, rank: sql<number>`0`.as("candidate_rank") }).from(products).where(where)
      .orderBy(desc(products.createdAt), desc(products.id)).limit(SEARCH_CANDIDATES).as("candidates");
  }
  const rank = withRank ? sql<number>`${productsFts.rank}` : sql<number>`0`;
  return db.select({ id: sql<number>`${productsFts.rowid}`.as("candidate_id"), rank: rank.as("candidate_rank") })
    .from(productsFts).crossJoin(products).where(where)
    .orderBy(desc(productsFts.rowid)).limit(SEARCH_CANDIDATES).as("candidates");
}

/** A search's page: its candidates best first (or in `ordering`), then only the page's own products are read. */
function selectSearchRows(db: Database, filters: ProductFilters, ordering: OrderingKey[] | undefined, limit: number, offset: number) {
  const byRank = ordering === undefined && searchPlan(filters.searchTerms ?? []).match !== null;
  const candidates = searchCandidates(db, filters, byRank);
  const pick = db.select({ id: candidates.id, rank: candidates.rank }).from(candidates);
  const page = (byRank ? pick.orderBy(asc(candidates.rank), asc(candidates.id)).limit(limit).offset(offset) : pick).as("page");
  const rows = db.select(productListColumns).from(page).crossJoin(products)
    .innerJoin(categories, eq(categories.id, products.categoryId)).where(eq(products.id, page.id));
  return byRank ? rows.orderBy(asc(page.rank), asc(page.id)).$dynamic() : rows.orderBy(...orderKeys(ordering)).limit(limit).offset(offset).$dynamic();
}

const orderKeys = (ordering: OrderingKey[] | undefined) => {
  const keys = ordering?.length ? ordering : NEWEST_FIRST;
  return [...keys.map((k) => (k.desc ? desc(orderColumns[k.field]) : asc(orderColumns[k.field]))), keys[0].desc ? desc(products.id) : asc(products.id)];
};

/**
 * Rows of one page: a search's (above), or in `ordering` (default newest first). `id` breaks ties so pages never
 * overlap or skip rows.
 */
function selectRows(db: Database, filters: ProductFilters, ordering: OrderingKey[] | undefined, limit: number, offset: number) {
  if (filters.searchTerms?.length) return selectSearchRows(db, filters, ordering?.length ? ordering : undefined, limit, offset);
  const keys = ordering?.length ? ordering : NEWEST_FIRST;
  const { where } = compile(filters, keys[0].field);
  const orderBy = orderKeys(ordering);
  if (offset > 0) {
    // A deeper page: the ids are picked from the index alone (it holds the rowid), and only the page's own rows are
    // then read, so the rows skipped by OFFSET cost an index entry each instead of a whole product row.
    const pageIds = db.select({ id: products.id }).from(products).where(where).orderBy(...orderBy).limit(limit).offset(offset);
    return db.select(productListColumns).from(products).innerJoin(categories, eq(categories.id, products.categoryId))
      .where(inArray(products.id, pageIds)).orderBy(...orderBy).$dynamic();
  }
  return db.select(productListColumns).from(products).innerJoin(categories, eq(categories.id, products.categoryId))
    .where(where).orderBy(...orderBy).limit(limit).offset(offset).$dynamic();
}

function selectCount(db: Database, filters: ProductFilters) {
  const scope = maintainedScope(filters);
  if (scope) return db.select({ count: catalogCounts.n }).from(catalogCounts).where(eq(catalogCounts.scope, scope));
  if (filters.searchTerms?.length) return db.select({ count: sql<number>`count(*)` }).from(searchCandidates(db, filters, false));
  return db.select({ count: sql<number>`count(*)` }).from(products).where(compile(filters, "count").where);
}

/**
 * The catalog_counts scope that holds this filter set's count, or null when no maintained count covers it (a search
 * or a price bound: those count over the index range they match).
 */
function maintainedScope(filters: ProductFilters): SQL | null {
  // inactive products have no maintained count: they are few, and their count reads the (is_active, …) index range
  if (filters.searchTerms?.length || filters.minPrice !== undefined || filters.maxPrice !== undefined || filters.inactiveOnly) return null;
  const stock = filters.inStock ? "_in_stock" : "";
  if (filters.category === undefined) return sql`${(filters.activeOnly ? "active" : "all") + stock}`;
  const prefix = `category${filters.activeOnly ? "" : "_all"}${stock}:`;
  return sql`${prefix} || (SELECT ${categories.id} FROM ${categories} WHERE ${categories.slug} = ${filters.category})`;
}

/** The two statements of a list page (exported so tests can check their query plans). */
export function listQueries(db: Database, filters: ProductFilters, ordering: OrderingKey[] | undefined, page: PageRequest) {
  return { rows: selectRows(db, filters, ordering, page.limit, page.offset), count: selectCount(db, filters) };
}

/**
 * One page of the list and the total count, in one D1 round trip. A count that no maintained row covers (a search or
 * a price bound) is remembered per filter set for a while, so the next pages of that search read only their rows.
 */
export async function listProducts(
  db: Database,
  filters: ProductFilters,
  ordering: OrderingKey[] | undefined,
  page: PageRequest,
): Promise<{ count: number; rows: ProductListRow[] }> {
  const queries = listQueries(db, filters, ordering, page);
  const memoKey = maintainedScope(filters) ? null : JSON.stringify(filters);
  const remembered = memoKey === null ? undefined : countMemo.get(memoKey);
  if (remembered !== undefined) return { count: remembered, rows: await queries.rows };
  const [rows, counts] = await db.batch([queries.rows, queries.count]);
  const count = counts[0]?.count ?? 0; // no catalog_counts row: nothing was ever counted in that scope
  if (memoKey !== null) countMemo.set(memoKey, count);
  return { count, rows };
}

/** Counts of searches and price ranges, per filter set, for as long as a cached listing may be stale anyway. */
const countMemo = isolateMemo<number>({ ttlMs: 30_000, maxEntries: 512 });

/** The 10 newest active products (the original promised "latest 10" but returned the oldest). */
export function featuredProducts(db: Database, filters: Omit<ProductFilters, "activeOnly" | "searchTerms">): Promise<ProductListRow[]> {
  return selectRows(db, { ...filters, activeOnly: true }, NEWEST_FIRST, FEATURED_COUNT, 0);
}

/**
 * Active products below their low-stock threshold (see low-stock.ts) in the projection, the emptiest first, at most
 * `limit`, each with its own threshold (null: the default).
 */
export function lowStockProducts(db: Database, limit: number) {
  return db
    .select({ ...productListColumns, lowStockThreshold: products.lowStockThreshold })
    .from(products)
    .innerJoin(categories, eq(categories.id, products.categoryId))
    .where(sql`${products.id} in (${lowStockIds(limit)})`)
    .orderBy(asc(products.stock), asc(products.id))
    .limit(limit);
}

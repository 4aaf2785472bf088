/**
 * What "low stock" means: fewer units than the product's own `low_stock_threshold`, or than the global default for a
 * product without one (a shop selling pins and pianos needs both). Used by `GET /products/low_stock/` and the
 * dashboard. The ids come from two walks, each emptiest first and cut at `limit`, so the rows read follow the limit,
 * not the catalogue: products on the default walk the (is_active, stock) index and stop at `limit`; products with a
 * threshold of their own are found through a partial index on (is_active, stock - threshold), which reads only those
 * below it (the expression is written exactly as indexed, or SQLite would not use the index).
 */
import { sql, type SQL } from "drizzle-orm";

/** The threshold of every product whose `low_stock_threshold` is null. */
export const DEFAULT_LOW_STOCK_THRESHOLD = 10;

/**
 * Ids of at most 2 × `limit` low-stock active products, among which are the `limit` emptiest: the caller orders by
 * (stock, id) and keeps `limit`. Each half is a subquery, since SQLite allows LIMIT only on a whole compound select.
 */
export function lowStockIds(limit: number): SQL {
  return sql`select id from (
      select id from products where is_active = 1 and low_stock_threshold is null and stock < ${DEFAULT_LOW_STOCK_THRESHOLD}
      order by stock, id limit ${limit})
    union all
    select id from (
      select id from products where is_active = 1 and low_stock_threshold is not null and stock - low_stock_threshold < 0
      order by stock, id limit ${limit})`;
}

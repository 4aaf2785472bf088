/**
 * The D1 stock projection, written behind by each inventory object. Each shard writes its own row of
 * `product_stock_shards` (versioned: a stale write never overwrites a newer one) and, in the same atomic batch,
 * `products.stock` is recomputed as the sum of the product's rows. D1 runs statements one at a time, so two shards
 * flushing at once still leave the sum right.
 *
 * Lag: a checkout's change is written at most PROJECTION_FLUSH_MS later (one batch for every change in that window,
 * not one write per reserve); an admin write is written before it answers. A flush that fails is retried by the
 * object's alarm, and the sweep re-writes any product whose sum differs.
 */

/** How long a shard gathers changes before writing them to D1. */
export const PROJECTION_FLUSH_MS = 1_000;

export interface ShardProjection {
  productId: number;
  shard: number;
  available: number;
  version: number;
}

/** The two statements of one flush; `force` (healing) overwrites a row whatever its version says. */
export function projectionStatements(db: D1Database, p: ShardProjection, force: boolean): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO product_stock_shards (product_id, shard, available, version) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (product_id, shard) DO UPDATE SET available = excluded.available, version = excluded.version
         WHERE ?5 OR excluded.version > product_stock_shards.version`,
      )
      .bind(p.productId, p.shard, p.available, p.version, force ? 1 : 0),
    db
      .prepare(
        `UPDATE products SET stock = (SELECT coalesce(sum(available), 0) FROM product_stock_shards WHERE product_id = ?1),
         stock_version = stock_version + 1 WHERE id = ?1`,
      )
      .bind(p.productId),
  ];
}

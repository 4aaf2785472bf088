/**
 * The typed calls the Worker makes on the inventory objects. Callers name a product (and, on the checkout path, its
 * shard count from D1); which shard objects answer is decided here (inventory.shards.ts):
 * - a reserve asks one shard, picked by the hold key, and moves on round the ring while a shard has too little; a
 *   quantity no single shard has is held in parts, so the last units sell however they are spread;
 * - commit and release go to the shards this isolate's reserve used; any other hold (a cancel days later, a lost
 *   answer) is settled at every shard the product ever had, which is exact because each shard settles a hold once;
 * - counts are the sum over every shard the product ever had; admin writes go to the home (shard 0), which gathers
 *   and re-spreads the units itself.
 * A shard that answered with nothing left is skipped, and a product every shard refused with nothing left is refused
 * without any object call, for SOLD_OUT_TTL_MS in this isolate.
 */
import { objectLocation } from "../placement/location";
import type { ReserveResult, SettleOutcome, StockSnapshot, StockWriteResult } from "./inventory.do";
import { DEFAULT_HOLD_TTL_MS } from "./inventory.do";
import {
  clearSoldOut,
  forgetHold,
  isShardEmpty,
  isSoldOut,
  markShardEmpty,
  markSoldOut,
  probeOrder,
  recallHold,
  rememberHold,
  shardName,
} from "./inventory.shards";

/** The object of one shard of a product (shard 0: the product's own object, its home). */
export const shardStub = (env: Env, productId: number, shard = 0) =>
  env.INVENTORY.getByName(shardName(productId, shard), objectLocation(env));

/** The product's own object (shard 0). Tests reach into it; features go through `productStock`. */
export const inventoryOf = (env: Env, productId: number) => shardStub(env, productId, 0);

export class ProductStock {
  constructor(
    private readonly env: Env,
    readonly productId: number,
    /** How many shards buyers spread over (products.stock_shards); 1 for most products. */
    private readonly shards = 1,
  ) {}

  private shard(s: number) {
    return shardStub(this.env, this.productId, s);
  }

  /** Exact counts, summed over every shard the product ever had. One object call for an unsharded product. */
  async getStock(): Promise<StockSnapshot> {
    const home = await this.shard(0).getStock(this.productId, 0);
    if (home.peak <= 1) return home;
    const others = await Promise.all(Array.from({ length: home.peak - 1 }, (_, i) => this.shard(i + 1).getStock(this.productId, i + 1)));
    return others.reduce(
      (sum, s) => ({
        ...sum,
        available: sum.available + s.available,
        reserved: sum.reserved + s.reserved,
        sold: sum.sold + s.sold,
        total: sum.total + s.total,
        version: sum.version + s.version,
      }),
      home as StockSnapshot,
    );
  }

  /**
   * Holds `qty` units for `holdKey` across the product's shards, or none. A product known to be sold out is refused
   * without asking any object. `available` in a refusal is the sum of what the shards asked reported.
   */
  async reserve(holdKey: string, qty: number, ttlMs = DEFAULT_HOLD_TTL_MS): Promise<ReserveResult> {
    if (isSoldOut(this.productId)) {
      rememberHold(this.productId, holdKey, []); // so this checkout's release costs no call either
      return { ok: false, available: 0, held: 0 };
    }
    // Units held per shard. A shard asked twice answers with the hold it already has (reserve is idempotent per key),
    // so the parts are set, never added twice.
    const parts = new Map<number, number>();
    const held = () => [...parts.values()].reduce((a, b) => a + b, 0);
    const seen = new Map<number, number>();
    let asking = -1;
    try {
      const order = probeOrder(holdKey, this.shards);
      // The home last again: units an admin write or a re-sharding is gathering or spreading pass through it, so a
      // buyer who missed them on the way round still finds them there.
      if (order.length > 1 && order[order.length - 1] !== 0) order.push(0);
      for (const [i, s] of order.entries()) {
        if (parts.has(s)) continue; // already holds its part: asking again cannot give more
        // A shard this isolate saw empty a moment ago is skipped (the home's second chance, last, never is).
        if (this.shards > 1 && i < this.shards && isShardEmpty(this.productId, s)) continue;
        asking = s;
        const r = await this.shard(s).reserve(this.productId, holdKey, qty - held(), ttlMs, { shard: s, partial: this.shards > 1 });
        asking = -1;
        if (r.held) parts.set(s, r.held);
        seen.set(s, r.available);
        if (r.available === 0 && !r.held) markShardEmpty(this.productId, s); // (not one we took from: we may give it back)
        if (held() >= qty) {
          rememberHold(this.productId, holdKey, [...parts.keys()]);
          return { ok: true, available: sum(seen), held: held() };
        }
      }
    } catch (err) {
      // The shard being asked may have held units whose answer was lost: release there too (an unknown key is a no-op).
      await this.releaseAt(holdKey, asking >= 0 ? [...parts.keys(), asking] : [...parts.keys()]);
      throw err;
    }
    const partly = held();
    if (parts.size) await this.releaseAt(holdKey, [...parts.keys()]);
    else if (sum(seen) === 0) markSoldOut(this.productId);
    rememberHold(this.productId, holdKey, []);
    return { ok: false, available: sum(seen) + partly, held: 0 };
  }

  /** Turns the hold into sold units. False if any part of it is unknown or was released. */
  async commit(holdKey: string): Promise<boolean> {
    return this.settle(holdKey, "committed");
  }

  /** Gives back a hold that was never sold (a failed checkout). Never touches committed units. */
  async release(holdKey: string): Promise<boolean> {
    return this.settle(holdKey, "released");
  }

  /** Returns a cancelled order's units, exactly once per shard however often it is called. */
  async restock(holdKey: string): Promise<boolean> {
    return this.settle(holdKey, "restocked");
  }

  /** Re-writes the D1 projection if it shows another stock than the shards' sum (the sweep). True if healed. */
  async healProjection(d1Stock: number): Promise<boolean> {
    const home = await this.shard(0).healProjection(d1Stock); // an unsharded product: decided and healed in this call
    if (home.peak <= 1) return home.healed;
    if ((await this.getStock()).available === d1Stock) return false;
    await Promise.all(Array.from({ length: home.peak }, (_, s) => this.shard(s).flushProjection(true)));
    return true;
  }

  private async releaseAt(holdKey: string, shards: number[]): Promise<void> {
    await Promise.allSettled(shards.map((s) => this.shard(s).release(holdKey)));
  }

  private async settle(holdKey: string, to: "committed" | "released" | "restocked"): Promise<boolean> {
    const known = to === "restocked" ? undefined : recallHold(this.productId, holdKey);
    forgetHold(this.productId, holdKey);
    let outcomes: SettleOutcome[];
    if (known) {
      if (known.length === 0) return false; // this isolate's reserve was refused: nothing is held anywhere
      outcomes = (await Promise.all(known.map((s) => this.shard(s).settle(holdKey, to)))).map((r) => r.outcome);
    } else {
      const home = await this.shard(0).settle(holdKey, to);
      const others = Array.from({ length: home.peak - 1 }, (_, i) => i + 1);
      outcomes = [home.outcome, ...(await Promise.all(others.map((s) => this.shard(s).settle(holdKey, to)))).map((r) => r.outcome)];
    }
    return !outcomes.includes("refused") && outcomes.includes("ok");
  }
}

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** A product's stock, over its shards; `shards` is products.stock_shards where the caller has it (checkout). */
export const productStock = (env: Env, productId: number, shards = 1) => new ProductStock(env, productId, shards);

/** Exact available stock of one product, from its objects (never the D1 projection). */
export async function availableStock(env: Env, productId: number): Promise<number> {
  return (await productStock(env, productId).getStock()).available;
}

/** Exact available stock of several products, asked in parallel. */
export async function availableStocks(env: Env, productIds: readonly number[]): Promise<Map<number, number>> {
  const unique = [...new Set(productIds)];
  const snapshots = await Promise.all(unique.map((id) => productStock(env, id).getStock()));
  return new Map(snapshots.map((s, i) => [unique[i], s.available]));
}

/** Admin stock change: goes through the home object, which spreads it over the shards and updates the projection. */
export async function setStock(env: Env, productId: number, available: number): Promise<StockWriteResult> {
  clearSoldOut(productId);
  return inventoryOf(env, productId).setStock(productId, available);
}

/** Admin stock change only if the product still has `expected` available units (what the admin's form showed). */
export async function setStockIf(env: Env, productId: number, expected: number, available: number): Promise<StockWriteResult> {
  clearSoldOut(productId);
  return inventoryOf(env, productId).setStockIf(productId, expected, available);
}

/** Relative admin stock change, decided in the home object; refused (ok false) if it would go below zero. */
export async function adjustStock(env: Env, productId: number, delta: number): Promise<StockWriteResult> {
  clearSoldOut(productId);
  return inventoryOf(env, productId).adjustStock(productId, delta);
}

/** Admin: spreads the product's stock over `shards` objects (products.stock_shards). */
export async function setStockShards(env: Env, productId: number, shards: number) {
  clearSoldOut(productId);
  return inventoryOf(env, productId).setShards(productId, shards);
}

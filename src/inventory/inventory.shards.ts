/**
 * Where a product's stock lives when it is split over shards (issue 25), and the edge's short memory of sold-out
 * products. Pure functions and per-isolate state only: no I/O here.
 *
 * Shard 0 is the product's original object (`"<id>"`), so a product that was never sharded keeps its object and its
 * holds. It is also the product's home: it keeps the shard count and the highest count ever used (`peak`), and runs
 * every admin write and every re-balance. Shards 1.. are `"<id>/s<n>"`.
 */

/** The most shards a product may have: a spare factor of ten over what 10,000 checkouts/s need (scripts/flash-sim.mjs). */
export const MAX_STOCK_SHARDS = 64;

export const shardName = (productId: number, shard: number) => (shard === 0 ? String(productId) : `${productId}/s${shard}`);

/** A stable number from a hold key (FNV-1a), so a retried reserve starts at the same shard. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The shards a reserve asks, in order: it starts at a shard picked by its (random) hold key, which spreads buyers
 * evenly, and moves on round the ring while the shard it asked had too little.
 */
export function probeOrder(holdKey: string, shards: number): number[] {
  const n = Math.max(1, Math.min(MAX_STOCK_SHARDS, Math.floor(shards) || 1));
  const start = hashKey(holdKey) % n;
  return Array.from({ length: n }, (_, i) => (start + i) % n);
}

/** Splits `units` over `shards` as evenly as whole units allow; shard 0 gets any remainder first. */
export function shares(units: number, shards: number): number[] {
  const base = Math.floor(units / shards);
  return Array.from({ length: shards }, (_, i) => base + (i < units % shards ? 1 : 0));
}

// ---- the sold-out flag at the edge --------------------------------------------------------------------------

/**
 * How long an isolate remembers that a shard (or every shard: the product) had nothing left. Within it, a reserve
 * skips that shard, and a checkout of a product whose every shard is empty is refused without asking any object: the
 * crowd that arrives after the last unit costs nothing, and the crowd near the end does not ask every empty shard
 * each time. Short, because a cancelled or expired order can bring a unit back (a buyer may be told "sold out" for
 * at most this long after it did); an admin's stock write through this isolate clears it at once.
 */
export const SOLD_OUT_TTL_MS = 2_000;

/** Per product: until when it is sold out, and until when each of its shards is known empty. */
const emptyUntil = new Map<number, { product: number; shards: Map<number, number> }>();

function entry(productId: number) {
  let e = emptyUntil.get(productId);
  if (!e) {
    if (emptyUntil.size > 10_000) emptyUntil.clear(); // a bound on memory; forgetting only costs object calls
    e = { product: 0, shards: new Map() };
    emptyUntil.set(productId, e);
  }
  return e;
}

export function isSoldOut(productId: number, now = Date.now()): boolean {
  return (emptyUntil.get(productId)?.product ?? 0) > now;
}

export function markSoldOut(productId: number, now = Date.now()): void {
  entry(productId).product = now + SOLD_OUT_TTL_MS;
}

export function isShardEmpty(productId: number, shard: number, now = Date.now()): boolean {
  return (emptyUntil.get(productId)?.shards.get(shard) ?? 0) > now;
}

export function markShardEmpty(productId: number, shard: number, now = Date.now()): void {
  entry(productId).shards.set(shard, now + SOLD_OUT_TTL_MS);
}

export function clearSoldOut(productId: number): void {
  emptyUntil.delete(productId);
}

// ---- where this isolate's own holds went --------------------------------------------------------------------

/**
 * The shards a reserve made in this isolate took units from, per product and hold key, so the same checkout's commit
 * or release goes straight to them. A miss (another isolate, a retry, an answer that was lost) is never wrong, only
 * slower: the call then goes to every shard the product ever had. Entries leave on commit or release.
 */
const heldAt = new Map<string, number[]>();
const heldKey = (productId: number, holdKey: string) => `${productId}:${holdKey}`;

export function rememberHold(productId: number, holdKey: string, shards: number[]): void {
  if (heldAt.size > 50_000) heldAt.clear();
  heldAt.set(heldKey(productId, holdKey), shards);
}

export function recallHold(productId: number, holdKey: string): number[] | undefined {
  return heldAt.get(heldKey(productId, holdKey));
}

export function forgetHold(productId: number, holdKey: string): void {
  heldAt.delete(heldKey(productId, holdKey));
}

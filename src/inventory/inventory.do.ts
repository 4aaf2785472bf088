/**
 * Inventory: one Durable Object per product, the source of truth for its stock.
 *
 * Invariant: available + reserved + sold == initial + adjustments, and available >= 0.
 * Every method that checks and changes stock does so in one synchronous `transactionSync`, so no other
 * request interleaves between the check and the write. Every order-keyed method is idempotent: a retried
 * reserve holds once, a retried commit sells once, a retried restock restores once.
 *
 * Holds move reserved -> committed -> restocked, or reserved -> released; never both sold and released.
 * Holds are keyed by the order's random `hold_key`, never its number, so holds of two orders can never be confused.
 * The alarm settles holds whose TTL passed (the Worker died mid-checkout) by asking D1 whether the order exists, in
 * the same statement that fences the key against an order batch D1 runs later (released_holds).
 * After each change of `available` the object writes it to D1 `products.stock` with a version, so a stale
 * projection write can never overwrite a newer one. Checkout calls answer before that write (it runs in the
 * background); admin writes wait for it, so the admin's next read shows the new stock.
 */
import { DurableObject } from "cloudflare:workers";
import { logError } from "../lib/log";

export type HoldState = "reserved" | "committed" | "released" | "restocked";

export interface StockSnapshot {
  productId: number;
  available: number;
  reserved: number;
  sold: number;
  /** initial stock plus every admin adjustment: the right-hand side of the invariant. */
  total: number;
  version: number;
}

export interface ReserveResult {
  ok: boolean;
  available: number;
}

/** The outcome of an admin stock write: `ok` false means nothing changed; `previous` is `available` before it. */
export interface StockWriteResult {
  ok: boolean;
  previous: number;
  snapshot: StockSnapshot;
}

interface StockRow extends Record<string, SqlStorageValue> {
  product_id: number;
  available: number;
  reserved: number;
  sold: number;
  total: number;
  version: number;
}

interface HoldRow extends Record<string, SqlStorageValue> {
  order_key: string;
  qty: number;
  state: HoldState;
  expires_at: number;
}

/** How long a hold lives before the alarm settles it (a checkout normally commits within a second). */
export const DEFAULT_HOLD_TTL_MS = 2 * 60 * 1000;
const RETRY_ALARM_MS = 30_000;

export class Inventory extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS stock (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      product_id INTEGER NOT NULL,
      available INTEGER NOT NULL CHECK (available >= 0),
      reserved INTEGER NOT NULL DEFAULT 0,
      sold INTEGER NOT NULL DEFAULT 0,
      total INTEGER NOT NULL,
      version INTEGER NOT NULL DEFAULT 0
    )`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS holds (
      order_key TEXT PRIMARY KEY,
      qty INTEGER NOT NULL,
      state TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    )`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS holds_reserved_expiry ON holds (state, expires_at)`);
  }

  /** Current counts. The first call for a product seeds the object from the D1 projection. */
  async getStock(productId: number): Promise<StockSnapshot> {
    return this.snapshot(await this.ensure(productId));
  }

  /** Admin sets the available stock; the difference is recorded as an adjustment. */
  async setStock(productId: number, available: number): Promise<StockWriteResult> {
    return this.writeDecided(productId, () => available);
  }

  /**
   * Sets the available stock only if it is still `expected` (what the admin's form showed): a sale made since the
   * form was loaded makes this refuse rather than bring the sold units back.
   */
  async setStockIf(productId: number, expected: number, available: number): Promise<StockWriteResult> {
    return this.writeDecided(productId, (current) => (current === expected ? available : null));
  }

  /** Adds `delta` (negative to remove) to the available stock, decided here so it needs no read first; never below zero. */
  async adjustStock(productId: number, delta: number): Promise<StockWriteResult> {
    return this.writeDecided(productId, (current) => (Number.isInteger(delta) && current + delta >= 0 ? current + delta : null));
  }

  /**
   * Re-writes the D1 projection if it shows another stock than this object (a projection write that failed or died,
   * or a hand edit). Called by the scheduled sweep; an object that never held stock is left alone (not seeded).
   * True if healed.
   */
  async healProjection(d1Stock: number): Promise<boolean> {
    const row = this.row();
    // Same stock, older version (e.g. the object seeded itself from D1): nothing a reader could see is wrong.
    if (!row || d1Stock === row.available) return false;
    await this.project(row, { force: true });
    return true;
  }

  /**
   * Holds `qty` units for `orderKey` if that many are available. Idempotent per order key: a retry returns
   * the outcome of the first call without holding twice.
   */
  async reserve(productId: number, orderKey: string, qty: number, ttlMs = DEFAULT_HOLD_TTL_MS): Promise<ReserveResult> {
    await this.ensure(productId);
    const result = this.ctx.storage.transactionSync((): ReserveResult & { changed: boolean } => {
      const row = this.row()!;
      const hold = this.hold(orderKey);
      if (hold) return { ok: hold.state === "reserved" || hold.state === "committed", available: row.available, changed: false };
      if (!Number.isInteger(qty) || qty <= 0 || row.available < qty) return { ok: false, available: row.available, changed: false };
      const expiresAt = Date.now() + ttlMs;
      this.sql.exec("INSERT INTO holds (order_key, qty, state, expires_at) VALUES (?, ?, 'reserved', ?)", orderKey, qty, expiresAt);
      this.sql.exec("UPDATE stock SET available = available - ?, reserved = reserved + ?, version = version + 1 WHERE id = 1", qty, qty);
      return { ok: true, available: row.available - qty, changed: true };
    });
    if (result.changed) {
      await this.scheduleAlarm();
      this.projectInBackground();
    }
    return { ok: result.ok, available: result.available };
  }

  /** Turns a hold into sold units. Idempotent; false if the hold is unknown or was already released. */
  async commit(orderKey: string): Promise<boolean> {
    return this.transition(orderKey, "committed");
  }

  /** Gives back a hold that was never sold (checkout failed). Idempotent; never touches committed units. */
  async release(orderKey: string): Promise<boolean> {
    return this.transition(orderKey, "released");
  }

  /**
   * Returns the units of a cancelled order to stock, exactly once however often it is called. A hold that was
   * never committed (the Worker died before committing) is released instead.
   */
  async restock(orderKey: string): Promise<boolean> {
    return this.transition(orderKey, "restocked");
  }

  /** The state of one hold, for tests and reconciliation. */
  async holdState(orderKey: string): Promise<HoldState | null> {
    return this.hold(orderKey)?.state ?? null;
  }

  /**
   * Settles holds whose TTL passed: if D1 has the order (and it was not cancelled) the units are sold,
   * otherwise released. At-least-once delivery is fine: each transition is idempotent.
   */
  async alarm(): Promise<void> {
    const expired = this.sql
      .exec<HoldRow>("SELECT * FROM holds WHERE state = 'reserved' AND expires_at <= ? ORDER BY expires_at LIMIT 100", Date.now())
      .toArray();
    let unsettled = false;
    try {
      for (const hold of expired) {
        try {
          // One statement decides: either an order has the key, or the key is fenced so that no order batch D1 runs
          // later can commit it; units released here are never sold by that order too. Not fenced (an order exists, or
          // an earlier alarm fenced it and died): the order, if any, says what to do.
          const fenced = await this.env.DB.prepare(
            `INSERT INTO released_holds (hold_key, released_at) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM orders WHERE hold_key = ?1)
             ON CONFLICT DO NOTHING RETURNING hold_key`,
          )
            .bind(hold.order_key, Date.now())
            .first();
          const order = fenced
            ? null
            : await this.env.DB.prepare("SELECT status FROM orders WHERE hold_key = ?").bind(hold.order_key).first<{ status: string }>();
          await this.transition(hold.order_key, order && order.status !== "cancelled" ? "committed" : "released");
        } catch (err) {
          // D1 could not tell: the hold stays reserved and is asked about again on the next alarm.
          unsettled = true;
          logError("alarm could not settle hold", err, { holdKey: hold.order_key });
        }
      }
    } finally {
      // Always re-armed (the runtime gives up on an alarm after a few failed retries, and a quiet product would
      // otherwise keep its expired holds until the next reservation).
      if (unsettled) await this.ctx.storage.setAlarm(Date.now() + RETRY_ALARM_MS);
      else await this.scheduleAlarm();
    }
    const row = this.row();
    if (row) await this.project(row);
  }

  private async transition(orderKey: string, to: Exclude<HoldState, "reserved">): Promise<boolean> {
    const outcome = this.ctx.storage.transactionSync(() => {
      const hold = this.hold(orderKey);
      if (!hold) return { ok: false, changed: false };
      if (hold.state === to) return { ok: true, changed: false };
      const q = hold.qty;
      if (hold.state === "reserved" && to === "committed") {
        this.sql.exec("UPDATE stock SET reserved = reserved - ?, sold = sold + ?, version = version + 1 WHERE id = 1", q, q);
      } else if (hold.state === "reserved" && (to === "released" || to === "restocked")) {
        this.sql.exec("UPDATE stock SET reserved = reserved - ?, available = available + ?, version = version + 1 WHERE id = 1", q, q);
        to = "released";
      } else if (hold.state === "committed" && to === "restocked") {
        this.sql.exec("UPDATE stock SET sold = sold - ?, available = available + ?, version = version + 1 WHERE id = 1", q, q);
      } else {
        // released/restocked are final; committing a released hold or releasing a sold one is refused.
        return { ok: hold.state === "released" && to === "restocked", changed: false };
      }
      this.sql.exec("UPDATE holds SET state = ? WHERE order_key = ?", to, orderKey);
      return { ok: true, changed: true };
    });
    if (outcome.changed && to !== "committed") this.projectInBackground();
    return outcome.ok;
  }

  /**
   * An admin write whose new `available` is decided from the current one (null: refused, nothing changes). The check and
   * the write run with no await between them, so no reservation can slip in.
   */
  private async writeDecided(productId: number, decide: (current: number) => number | null): Promise<StockWriteResult> {
    await this.ensure(productId);
    const before = this.row()!; // re-read after the await
    const next = decide(before.available);
    if (next === null) return { ok: false, previous: before.available, snapshot: this.snapshot(before) };
    this.writeAvailable(next);
    const row = this.row()!;
    await this.project(row);
    return { ok: true, previous: before.available, snapshot: this.snapshot(row) };
  }

  /** Admin write of `available`; the difference goes into `total` (an adjustment), keeping the invariant. */
  private writeAvailable(available: number): void {
    this.sql.exec(
      "UPDATE stock SET available = ?, total = total + (? - available), version = version + 1 WHERE id = 1",
      available,
      available,
    );
  }

  /** The projection write of a checkout or cancel: the caller gets its answer without waiting for D1. */
  private projectInBackground(): void {
    this.ctx.waitUntil(this.project(this.row()!));
  }

  private row(): StockRow | null {
    return this.sql.exec<StockRow>("SELECT * FROM stock WHERE id = 1").toArray()[0] ?? null;
  }

  private hold(orderKey: string): HoldRow | null {
    return this.sql.exec<HoldRow>("SELECT * FROM holds WHERE order_key = ?", orderKey).toArray()[0] ?? null;
  }

  private snapshot(row: StockRow): StockSnapshot {
    return {
      productId: row.product_id,
      available: row.available,
      reserved: row.reserved,
      sold: row.sold,
      total: row.total,
      version: row.version,
    };
  }

  /**
   * The object's state, created on first use from the D1 projection (products seeded straight into D1,
   * e.g. by `npm run seed`, have never met their object). Concurrency is blocked while it loads so two
   * first calls cannot both seed.
   */
  private async ensure(productId: number): Promise<StockRow> {
    const existing = this.row();
    if (existing) return existing;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.row()) return;
      const product = await this.env.DB.prepare("SELECT stock FROM products WHERE id = ?").bind(productId).first<{ stock: number }>();
      const stock = Math.max(0, product?.stock ?? 0);
      this.sql.exec("INSERT INTO stock (id, product_id, available, total, version) VALUES (1, ?, ?, ?, 1)", productId, stock, stock);
    });
    return this.row()!;
  }

  /**
   * Writes `available` to the D1 projection unless a newer version is already there. The stock change itself is
   * already durable here, so a failed projection write is logged, not thrown: the next change or alarm projects again.
   */
  private async project(row: StockRow, { force = false } = {}): Promise<void> {
    try {
      // `force` (healing) also overwrites a projection at the same or a newer version: one written by hand or by a
      // seed is wrong whatever its version says, since this object is the source of truth.
      const update = "UPDATE products SET stock = ?, stock_version = ? WHERE id = ?";
      const statement = force
        ? this.env.DB.prepare(update).bind(row.available, row.version, row.product_id)
        : this.env.DB.prepare(`${update} AND stock_version < ?`).bind(row.available, row.version, row.product_id, row.version);
      await statement.run();
    } catch (err) {
      logError("stock projection failed", err, { productId: row.product_id });
    }
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.sql
      .exec<{ at: number | null }>("SELECT min(expires_at) AS at FROM holds WHERE state = 'reserved'")
      .one().at;
    if (next === null) return void (await this.ctx.storage.deleteAlarm());
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }
}

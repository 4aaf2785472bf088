/**
 * Inventory: the source of truth for a product's stock. One object per product, or, for a hot product, one per stock
 * shard (see inventory.shards.ts): every shard is this class and keeps its own part of the stock and its own holds.
 *
 * Invariant, per shard: available + reserved + sold == total (its units, moved in and out counted), available >= 0;
 * per product: the shards' totals add up to the initial stock plus every admin adjustment.
 * Every method that checks and changes stock does so in one synchronous `transactionSync`, so no other request
 * interleaves between the check and the write. Every order-keyed method is idempotent: a retried reserve holds once,
 * a retried commit sells once, a retried restock restores once. Holds move reserved -> committed -> restocked, or
 * reserved -> released; never both sold and released. The alarm settles holds whose TTL passed (the Worker died
 * mid-checkout) by asking D1 whether the order exists.
 *
 * Units move between shards only by transfer: the giver takes them off its own books and records the transfer
 * (pending) in one synchronous step, the receiver adds them once per transfer id, and the giver's alarm re-sends any
 * transfer still pending (a giver that died after recording it loses nothing). Shard 0 (the home) runs every admin
 * write: it gathers every shard's free units, decides against all of them, and spreads them out again.
 * The alarm's question to D1 is one statement that also fences the key against an order batch D1 runs later
 * (released_holds). The D1 projection is written behind (inventory.projection.ts); admin writes wait for it.
 */
import { DurableObject } from "cloudflare:workers";
import { logError } from "../lib/log";
import { objectLocation } from "../placement/location";
import { PROJECTION_FLUSH_MS, projectionStatements } from "./inventory.projection";
import { MAX_STOCK_SHARDS, shardName, shares } from "./inventory.shards";

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

/** One shard's counts, with the product's shard count and the most it ever had (known to the home, shard 0). */
export interface ShardSnapshot extends StockSnapshot {
  shard: number;
  shards: number;
  peak: number;
}

export interface ReserveResult {
  ok: boolean;
  available: number;
  /** Units this object holds for the order key (with `partial`, possibly fewer than asked; 0 when refused). */
  held?: number;
}

export interface ReserveOptions {
  /** Which of the product's shards this object is (0, the default, is the product's own object). */
  shard?: number;
  /** Hold what there is, up to the quantity, rather than nothing when there is less. */
  partial?: boolean;
}

/** The outcome of an admin stock write: `ok` false means nothing changed; `previous` is `available` before it. */
export interface StockWriteResult {
  ok: boolean;
  previous: number;
  snapshot: StockSnapshot;
}

/** What a hold transition found: no such hold here, done (now or before), or refused (e.g. committing a released hold). */
export type SettleOutcome = "none" | "ok" | "refused";

interface StockRow extends Record<string, SqlStorageValue> {
  product_id: number;
  available: number;
  reserved: number;
  sold: number;
  total: number;
  version: number;
}

interface MetaRow extends Record<string, SqlStorageValue> {
  shard: number;
  shards: number;
  peak: number;
  retired: number;
}

interface HoldRow extends Record<string, SqlStorageValue> {
  order_key: string;
  qty: number;
  state: HoldState;
  expires_at: number;
}

interface TransferRow extends Record<string, SqlStorageValue> {
  id: string;
  peer: number;
  qty: number;
}

/** How long a hold lives before the alarm settles it (a checkout normally commits within a second). */
export const DEFAULT_HOLD_TTL_MS = 2 * 60 * 1000;
const RETRY_ALARM_MS = 30_000;

export class Inventory extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** When the pending projection write is due (null: nothing to write). Lost with the object; the alarm writes anyway. */
  private flushDue: number | null = null;

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
    // Separate tables (not new columns), so objects created before shards existed need no migration.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS shard_meta (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      shard INTEGER NOT NULL,
      shards INTEGER NOT NULL DEFAULT 1,
      peak INTEGER NOT NULL DEFAULT 1,
      retired INTEGER NOT NULL DEFAULT 0
    )`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS transfers_out (id TEXT PRIMARY KEY, peer INTEGER NOT NULL, qty INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS transfers_in (id TEXT PRIMARY KEY, qty INTEGER NOT NULL)`);
  }

  /** This shard's counts. The first call for a product seeds shard 0 from the D1 projection (other shards start empty). */
  async getStock(productId: number, shard = 0): Promise<ShardSnapshot> {
    const row = await this.ensure(productId, shard);
    const meta = this.meta()!;
    return { ...this.snapshot(row), shard: meta.shard, shards: meta.shards, peak: meta.peak };
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
   * Spreads the product's stock over `shards` objects (home only). Shards beyond the new count are retired: their
   * free units come home now, and units their holds give back later follow. Nothing is lost or counted twice.
   */
  async setShards(productId: number, shards: number): Promise<{ shards: number; peak: number }> {
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_STOCK_SHARDS) throw new RangeError(`shards must be 1..${MAX_STOCK_SHARDS}`);
    await this.ensure(productId, 0);
    this.sql.exec("UPDATE shard_meta SET shards = ?1, peak = max(peak, ?1)", shards);
    const meta = this.meta()!;
    if (meta.peak > 1) {
      await this.gather(productId, meta);
      await this.spread(productId);
      await this.flush();
    }
    return { shards: meta.shards, peak: meta.peak };
  }

  /**
   * The sweep's check of an unsharded product, in one call: re-writes the projection if D1 shows another stock than this
   * object (force: a row written by hand or a seed is wrong whatever its version). An object that never held stock is
   * left alone. A sharded product's home only answers its `peak`: the client then compares the sum of the shards.
   */
  async healProjection(d1Stock: number): Promise<{ healed: boolean; peak: number }> {
    const row = this.row();
    const peak = this.meta()?.peak ?? 1;
    if (!row || peak > 1 || d1Stock === row.available) return { healed: false, peak };
    return { healed: await this.flush(true), peak };
  }

  /** Writes this shard's row of the projection now (`force`: whatever the row's version, e.g. healing a hand edit). */
  async flushProjection(force = false): Promise<void> {
    await this.flush(force);
  }

  /**
   * Holds `qty` units for `orderKey` if that many are available (with `partial`, as many as there are, up to `qty`).
   * Idempotent per order key: a retry returns the outcome of the first call without holding twice.
   */
  async reserve(productId: number, orderKey: string, qty: number, ttlMs = DEFAULT_HOLD_TTL_MS, opts: ReserveOptions = {}): Promise<ReserveResult> {
    await this.ensure(productId, opts.shard ?? 0);
    const result = this.ctx.storage.transactionSync((): Required<ReserveResult> & { changed: boolean } => {
      const row = this.row()!;
      const hold = this.hold(orderKey);
      if (hold) {
        const ok = hold.state === "reserved" || hold.state === "committed";
        return { ok, available: row.available, held: ok ? hold.qty : 0, changed: false };
      }
      const take = !Number.isInteger(qty) || qty <= 0 ? 0 : opts.partial ? Math.min(qty, row.available) : row.available >= qty ? qty : 0;
      if (take === 0) return { ok: false, available: row.available, held: 0, changed: false };
      this.sql.exec("INSERT INTO holds (order_key, qty, state, expires_at) VALUES (?, ?, 'reserved', ?)", orderKey, take, Date.now() + ttlMs);
      this.sql.exec("UPDATE stock SET available = available - ?1, reserved = reserved + ?1, version = version + 1 WHERE id = 1", take);
      return { ok: take === qty, available: row.available - take, held: take, changed: true };
    });
    if (result.changed) {
      this.markDirty();
      await this.scheduleAlarm();
    }
    return { ok: result.ok, available: result.available, held: result.held };
  }

  /** Turns a hold into sold units. Idempotent; false if the hold is unknown or was already released. */
  async commit(orderKey: string): Promise<boolean> {
    return (await this.transition(orderKey, "committed")) === "ok";
  }

  /** Gives back a hold that was never sold (checkout failed). Idempotent; never touches committed units. */
  async release(orderKey: string): Promise<boolean> {
    return (await this.transition(orderKey, "released")) === "ok";
  }

  /**
   * Returns the units of a cancelled order to stock, exactly once however often it is called. A hold that was
   * never committed (the Worker died before committing) is released instead.
   */
  async restock(orderKey: string): Promise<boolean> {
    return (await this.transition(orderKey, "restocked")) === "ok";
  }

  /** A transition that also says whether this shard had the hold at all, and (at the home) how many shards to ask. */
  async settle(orderKey: string, to: Exclude<HoldState, "reserved">): Promise<{ outcome: SettleOutcome; peak: number }> {
    const outcome = await this.transition(orderKey, to);
    return { outcome, peak: this.meta()?.peak ?? 1 };
  }

  /** The state of one hold, for tests and reconciliation. */
  async holdState(orderKey: string): Promise<HoldState | null> {
    return this.hold(orderKey)?.state ?? null;
  }

  /** Adds the units of transfer `id` to this shard, once however often it is delivered. */
  async receiveUnits(productId: number, shard: number, id: string, qty: number, flushNow = false): Promise<void> {
    await this.ensure(productId, shard);
    const applied = this.ctx.storage.transactionSync(() => {
      if (this.sql.exec("SELECT 1 FROM transfers_in WHERE id = ?", id).toArray().length) return false;
      this.sql.exec("INSERT INTO transfers_in (id, qty) VALUES (?, ?)", id, qty);
      this.sql.exec("UPDATE stock SET available = available + ?1, total = total + ?1, version = version + 1 WHERE id = 1", qty);
      if (shard !== 0) this.sql.exec("UPDATE shard_meta SET retired = 0"); // the home spreads units to live shards only
      return true;
    });
    if (!applied) return;
    if (flushNow) {
      await this.flush();
    } else {
      this.markDirty();
      await this.scheduleAlarm();
    }
  }

  /** Sends every free unit of this shard to the home (which is gathering them), and retires it if asked. */
  async sendHome(productId: number, shard: number, retire: boolean): Promise<number> {
    await this.ensure(productId, shard);
    this.sql.exec("UPDATE shard_meta SET retired = ?", retire ? 1 : 0);
    const sent = await this.send(productId, 0, this.row()!.available);
    await this.flush();
    return sent;
  }

  /**
   * Settles holds whose TTL passed: if D1 has the order (and it was not cancelled) the units are sold, otherwise
   * released. Re-sends transfers still pending, sends a retired shard's free units home, writes the projection.
   * At-least-once delivery is fine: every step is idempotent.
   */
  async alarm(): Promise<void> {
    const expired = this.sql
      .exec<HoldRow>("SELECT * FROM holds WHERE state = 'reserved' AND expires_at <= ? ORDER BY expires_at LIMIT 100", Date.now())
      .toArray();
    let retry = false;
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
          retry = true;
          logError("alarm could not settle hold", err, { holdKey: hold.order_key });
        }
      }
      const row = this.row();
      if (row) {
        for (const t of this.sql.exec<TransferRow>("SELECT id, peer, qty FROM transfers_out WHERE done = 0 LIMIT 100").toArray()) {
          retry = !(await this.deliver(row.product_id, t).catch(() => false)) || retry;
        }
        if (this.meta()?.retired && this.row()!.available > 0) await this.send(row.product_id, 0, this.row()!.available).catch(() => (retry = true));
        retry = !(await this.flush()) || retry;
      }
    } finally {
      // Always re-armed (the runtime gives up on an alarm after a few failed retries, and a quiet product would
      // otherwise keep its expired holds until the next reservation).
      await this.scheduleAlarm(retry ? Date.now() + RETRY_ALARM_MS : null);
    }
  }

  private async transition(orderKey: string, to: Exclude<HoldState, "reserved">): Promise<SettleOutcome> {
    const outcome = this.ctx.storage.transactionSync((): { outcome: SettleOutcome; freed: boolean } => {
      const hold = this.hold(orderKey);
      if (!hold) return { outcome: "none", freed: false };
      if (hold.state === to) return { outcome: "ok", freed: false };
      const q = hold.qty;
      if (hold.state === "reserved" && to === "committed") {
        this.sql.exec("UPDATE stock SET reserved = reserved - ?1, sold = sold + ?1, version = version + 1 WHERE id = 1", q);
      } else if (hold.state === "reserved" && (to === "released" || to === "restocked")) {
        this.sql.exec("UPDATE stock SET reserved = reserved - ?1, available = available + ?1, version = version + 1 WHERE id = 1", q);
        to = "released";
      } else if (hold.state === "committed" && to === "restocked") {
        this.sql.exec("UPDATE stock SET sold = sold - ?1, available = available + ?1, version = version + 1 WHERE id = 1", q);
      } else {
        // released/restocked are final; committing a released hold or releasing a sold one is refused.
        return { outcome: hold.state === "released" && to === "restocked" ? "ok" : "refused", freed: false };
      }
      this.sql.exec("UPDATE holds SET state = ? WHERE order_key = ?", to, orderKey);
      return { outcome: "ok", freed: to !== "committed" };
    });
    if (outcome.freed) {
      this.markDirty();
      await this.scheduleAlarm();
      // A retired shard's units belong with the live shards, where buyers look.
      const row = this.row()!;
      if (this.meta()?.retired) this.ctx.waitUntil(this.send(row.product_id, 0, row.available).catch(() => undefined));
    }
    return outcome.outcome;
  }

  /**
   * An admin write whose new `available` is decided from the current one (null: refused, nothing changes). A sharded
   * product first gathers every shard's free units here, so the decision sees all of them; the check and the write
   * run with no await between them, so no reservation can slip in. The snapshot is this object's at that moment.
   */
  private async writeDecided(productId: number, decide: (current: number) => number | null): Promise<StockWriteResult> {
    await this.ensure(productId, 0);
    const meta = this.meta()!;
    if (meta.peak > 1) await this.gather(productId, meta);
    const before = this.row()!; // re-read after the awaits
    const next = decide(before.available);
    if (next !== null) {
      this.sql.exec("UPDATE stock SET available = ?1, total = total + (?1 - available), version = version + 1 WHERE id = 1", next);
    }
    const decided = this.row()!;
    if (meta.peak > 1) await this.spread(productId);
    await this.flush();
    return { ok: next !== null, previous: before.available, snapshot: this.snapshot(decided) };
  }

  /** Home: brings every other shard's free units here (retiring shards beyond the count). Throws if a shard failed. */
  private async gather(productId: number, meta: MetaRow): Promise<void> {
    const others = Array.from({ length: meta.peak - 1 }, (_, i) => i + 1);
    const sent = await Promise.allSettled(others.map((s) => this.stub(productId, s).sendHome(productId, s, s >= meta.shards)));
    const failed = sent.find((r) => r.status === "rejected");
    if (failed) {
      await this.spread(productId).catch(() => undefined);
      throw failed.reason;
    }
  }

  /** Home: spreads its free units evenly over the live shards, keeping its own share. */
  private async spread(productId: number): Promise<void> {
    const meta = this.meta()!;
    if (meta.shards <= 1) return;
    const parts = shares(this.row()!.available, meta.shards);
    await Promise.all(parts.map((qty, s) => (s > 0 && qty > 0 ? this.send(productId, s, qty, true) : 0)));
  }

  /** Takes up to `qty` free units off this shard's books and delivers them to shard `to`; returns how many went. */
  private async send(productId: number, to: number, qty: number, flushNow = false): Promise<number> {
    const id = crypto.randomUUID();
    const sent = this.ctx.storage.transactionSync(() => {
      const units = Math.min(qty, this.row()!.available);
      if (units <= 0) return 0;
      this.sql.exec("UPDATE stock SET available = available - ?1, total = total - ?1, version = version + 1 WHERE id = 1", units);
      this.sql.exec("INSERT INTO transfers_out (id, peer, qty) VALUES (?, ?, ?)", id, to, units);
      return units;
    });
    if (sent === 0) return 0;
    this.markDirty();
    if (!(await this.deliver(productId, { id, peer: to, qty: sent }, flushNow))) {
      await this.scheduleAlarm(Date.now() + RETRY_ALARM_MS);
      throw new Error(`stock transfer to shard ${to} not delivered yet; the alarm re-sends it`);
    }
    return sent;
  }

  private async deliver(productId: number, t: TransferRow, flushNow = false): Promise<boolean> {
    try {
      await this.stub(productId, t.peer).receiveUnits(productId, t.peer, t.id, t.qty, flushNow);
      this.sql.exec("UPDATE transfers_out SET done = 1 WHERE id = ?", t.id);
      return true;
    } catch (err) {
      logError("stock transfer failed", err, { productId, to: t.peer });
      return false;
    }
  }

  private stub(productId: number, shard: number) {
    return this.env.INVENTORY.getByName(shardName(productId, shard), objectLocation(this.env)); // created next to the home
  }

  private row(): StockRow | null {
    return this.sql.exec<StockRow>("SELECT * FROM stock WHERE id = 1").toArray()[0] ?? null;
  }

  private meta(): MetaRow | null {
    return this.sql.exec<MetaRow>("SELECT shard, shards, peak, retired FROM shard_meta WHERE id = 1").toArray()[0] ?? null;
  }

  private hold(orderKey: string): HoldRow | null {
    return this.sql.exec<HoldRow>("SELECT * FROM holds WHERE order_key = ?", orderKey).toArray()[0] ?? null;
  }

  private snapshot(row: StockRow): StockSnapshot {
    const { product_id: productId, available, reserved, sold, total, version } = row;
    return { productId, available, reserved, sold, total, version };
  }

  /**
   * The object's state, created on first use: shard 0 from the D1 projection (products seeded straight into D1, e.g.
   * by `npm run seed`, have never met their object), other shards empty. Concurrency is blocked while shard 0 loads,
   * so two first calls cannot both seed.
   */
  private async ensure(productId: number, shard: number): Promise<StockRow> {
    if (!this.row()) {
      if (shard === 0) {
        await this.ctx.blockConcurrencyWhile(async () => {
          if (this.row()) return;
          const product = await this.env.DB.prepare("SELECT stock FROM products WHERE id = ?").bind(productId).first<{ stock: number }>();
          const stock = Math.max(0, product?.stock ?? 0);
          this.sql.exec("INSERT INTO stock (id, product_id, available, total, version) VALUES (1, ?, ?, ?, 1)", productId, stock, stock);
        });
      } else {
        this.sql.exec("INSERT INTO stock (id, product_id, available, total, version) VALUES (1, ?, 0, 0, 1)", productId);
      }
    }
    if (!this.meta()) this.sql.exec("INSERT INTO shard_meta (id, shard) VALUES (1, ?)", shard);
    return this.row()!;
  }

  /** A change to write to D1 within PROJECTION_FLUSH_MS: the alarm writes every change of that window in one batch. */
  private markDirty(): void {
    this.flushDue ??= Date.now() + PROJECTION_FLUSH_MS;
  }

  /** Writes this shard's projection row and the product's sum; false (logged, retried by the alarm) if D1 failed. */
  private async flush(force = false): Promise<boolean> {
    const row = this.row();
    const meta = this.meta();
    if (!row || !meta) return true;
    this.flushDue = null;
    try {
      const p = { productId: row.product_id, shard: meta.shard, available: row.available, version: row.version };
      await this.env.DB.batch(projectionStatements(this.env.DB, p, force));
      return true;
    } catch (err) {
      logError("stock projection failed", err, { productId: row.product_id, shard: meta.shard });
      return false;
    }
  }

  /** Arms the alarm for the earliest of: a hold's expiry, a due projection write, `extra` (a retry). */
  private async scheduleAlarm(extra: number | null = null): Promise<void> {
    const holds = this.sql.exec<{ at: number | null }>("SELECT min(expires_at) AS at FROM holds WHERE state = 'reserved'").one().at;
    const times = [holds, this.flushDue, extra].filter((t): t is number => t !== null);
    if (times.length === 0) return void (await this.ctx.storage.deleteAlarm());
    const next = Math.max(Math.min(...times), Date.now() + 1); // a hold already overdue: as soon as possible
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }
}

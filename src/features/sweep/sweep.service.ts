/**
 * The scheduled sweep (a Cron Trigger every 5 minutes): the repairs that no request makes.
 * - expires unpaid orders older than PENDING_ORDER_TTL_SECONDS (one compare-and-set statement; restock below);
 * - records refunds owed for cancelled orders whose money was captured, and settles those that are due (back-off);
 * - finishes cancels whose restock never completed (after their refund is confirmed or known pending);
 * - heals the D1 stock projection of products whose inventory object is ahead of it (a rotating window);
 * - purges expired idempotency keys, webhook event ids older than 7 days, sessions past their refresh expiry and
 *   hold fences (released_holds) older than a day, and anonymous carts untouched for 30 days (up to 1,000 a run);
 * - purges order events done for 30 days, with their webhook deliveries and emails (failed deliveries: 90 days;
 *   src/features/events/retention.ts), a window of PURGE_WINDOW (500) events a run;
 * - sends order events still unsent after a minute to the events Queue (src/features/events/outbox.ts).
 * I/O budget of one run (whatever the backlog): at most RESTOCK_CALLS_PER_RUN (1,000) inventory object calls to
 * restock + SWEEP_BATCH (100) to heal projections, REFUND_BATCH (20) Razorpay calls, and about 70 D1 queries: about
 * 1,200 subrequests, under the 10,000 a Worker invocation may make and the 1,000 D1 queries. A backlog bigger than
 * one run's budget is finished over the next runs, oldest first.
 * Every step is bounded and idempotent: two sweeps at once, or a sweep racing a user's cancel, change stock once
 * (status compare-and-set, restock once per hold key, versioned projection writes). A failing step is logged and
 * the others still run; what it left is picked up by the next run.
 */
import { asc, eq, gt } from "drizzle-orm";
import { db as drizzle, type Database } from "../../db/client";
import { products, sweepCursors } from "../../db/schema";
import { productStock } from "../../inventory/inventory.client";
import { logError } from "../../lib/log";
import { CLAIM_MS, publishEvents } from "../events/outbox";
import { GUEST_CART_TTL_SECONDS } from "../carts/guest-cart.store";
import { purgeEvents } from "../events/retention";
import { expireUnpaidOrders, finishCancellations } from "../orders/orders.sweep";
import { settleDueRefunds } from "../payments/refunds.service";

/** Products whose projection one run checks (one object call each). */
export const SWEEP_BATCH = 100;
const PURGE_BATCH = 1000;
/** Owed refunds asked of Razorpay per run (each: a read, a Razorpay call, a write). */
const REFUND_BATCH = 20;
const DEFAULT_PENDING_TTL_SECONDS = 1800;
/** Longer than Razorpay's 24 hours of webhook retries, so a late retry is still recognised as a duplicate. */
const WEBHOOK_EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const HOLD_FENCE_RETENTION_MS = 24 * 60 * 60 * 1000;
const GUEST_CART_PURGE_ROUNDS = 10;

export interface SweepReport {
  expiredOrders: number;
  refunds: number;
  finishedCancels: number;
  healedProjections: number;
  purgedIdempotencyKeys: number;
  purgedWebhookEvents: number;
  purgedSessions: number;
  purgedHoldFences: number;
  purgedGuestCarts: number;
  purgedEvents: number;
  publishedEvents: number;
  failedSteps: string[];
}

/** Seconds an unpaid order may wait for its payment (the `PENDING_ORDER_TTL_SECONDS` var). */
export function pendingOrderTtlSeconds(env: Env): number {
  const ttl = Number(env.PENDING_ORDER_TTL_SECONDS);
  return Number.isInteger(ttl) && ttl > 0 ? ttl : DEFAULT_PENDING_TTL_SECONDS;
}

export async function runSweep(env: Env, now = Date.now()): Promise<SweepReport> {
  const db = drizzle(env.DB);
  const report: SweepReport = {
    expiredOrders: 0,
    refunds: 0,
    finishedCancels: 0,
    healedProjections: 0,
    purgedIdempotencyKeys: 0,
    purgedWebhookEvents: 0,
    purgedSessions: 0,
    purgedHoldFences: 0,
    purgedGuestCarts: 0,
    purgedEvents: 0,
    publishedEvents: 0,
    failedSteps: [],
  };
  const step = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      report.failedSteps.push(name);
      logError("sweep step failed", err, { step: name });
    }
  };

  const cutoff = new Date(now - pendingOrderTtlSeconds(env) * 1000).toISOString();
  await step("expire unpaid orders", async () => {
    report.expiredOrders = await expireUnpaidOrders(db, cutoff);
  });
  await step("settle owed refunds", async () => {
    report.refunds = await settleDueRefunds(env, db, REFUND_BATCH, now);
  });
  await step("finish cancels", async () => {
    report.finishedCancels = await finishCancellations(env, db);
  });
  await step("heal stock projections", async () => {
    report.healedProjections = await healProjections(env, db);
  });
  await step("purge", async () => {
    [report.purgedIdempotencyKeys, report.purgedWebhookEvents, report.purgedSessions, report.purgedHoldFences] = await Promise.all([
      purge(env.DB, "idempotency_keys", "expires_at", Math.floor(now / 1000)),
      purge(env.DB, "webhook_events", "received_at", new Date(now - WEBHOOK_EVENT_RETENTION_MS).toISOString()),
      purge(env.DB, "sessions", "expires_at", Math.floor(now / 1000)),
      // a fence matters only while an order batch for its key could still reach D1 (seconds; a day is plenty)
      purge(env.DB, "released_holds", "released_at", now - HOLD_FENCE_RETENTION_MS),
    ]);
  });
  await step("purge idle anonymous carts", async () => {
    // untouched for 30 days (their cookie's life), with their lines (ON DELETE CASCADE, ≤ 100 each): 100 carts a
    // statement bounds its deletes at about 10,000 rows; up to GUEST_CART_PURGE_ROUNDS statements a run (about 290,000
    // carts a day at one run every 5 minutes), so a flood of carts that nobody signed in to make drains
    const before = new Date(now - GUEST_CART_TTL_SECONDS * 1000).toISOString();
    for (let round = 0, purged = 100; round < GUEST_CART_PURGE_ROUNDS && purged === 100; round++) {
      purged = await purge(env.DB, "guest_carts", "updated_at", before, 100);
      report.purgedGuestCarts += purged;
    }
  });
  await step("purge reset tokens and throttle counters", async () => {
    // spent or expired reset tokens (an hour of margin) and counters of windows that ended a day ago
    await Promise.all([
      purge(env.DB, "password_resets", "expires_at", now - 60 * 60 * 1000),
      purge(env.DB, "throttle_counters", "window_start", now - 24 * 60 * 60 * 1000),
    ]);
  });
  await step("purge order events", async () => {
    report.purgedEvents = (await purgeEvents(env.DB, now)).purged;
  });
  await step("publish events", async () => {
    // a few rounds, so a backlog (a Queue outage) drains within a few runs; each round is bounded
    for (let round = 0, sent = -1; round < 5 && sent !== 0; round++) {
      sent = await publishEvents(env, { olderThanMs: CLAIM_MS, now });
      report.publishedEvents += sent;
    }
  });
  console.log(JSON.stringify({ level: "info", msg: "sweep done", ...report }));
  return report;
}

/**
 * Asks the next window of products' inventory objects to re-write their projection where D1 is behind. The window
 * moves on each run (a cursor in D1) and wraps around, so every product is checked in turn.
 */
async function healProjections(env: Env, db: Database): Promise<number> {
  const cursor = (await db.select({ position: sweepCursors.position }).from(sweepCursors).where(eq(sweepCursors.name, "projection")))[0]?.position ?? 0;
  const window = await db
    .select({ id: products.id, stock: products.stock })
    .from(products)
    .where(gt(products.id, cursor))
    .orderBy(asc(products.id))
    .limit(SWEEP_BATCH);
  const healed = await Promise.allSettled(window.map((p) => productStock(env, p.id).healProjection(p.stock)));
  const next = window.length < SWEEP_BATCH ? 0 : window[window.length - 1].id;
  await db
    .insert(sweepCursors)
    .values({ name: "projection", position: next })
    .onConflictDoUpdate({ target: sweepCursors.name, set: { position: next } });
  return healed.filter((r) => r.status === "fulfilled" && r.value).length;
}

/**
 * Deletes at most `limit` rows whose `column` is below `before` (the rest go on the next run); returns how many,
 * counted with RETURNING: D1's `changes` also counts the rows an ON DELETE CASCADE removed.
 */
async function purge(d1: D1Database, table: string, column: string, before: number | string, limit = PURGE_BATCH): Promise<number> {
  const { results } = await d1
    .prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? LIMIT ${limit}) RETURNING rowid`)
    .bind(before)
    .all();
  return results.length;
}

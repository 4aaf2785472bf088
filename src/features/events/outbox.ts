/**
 * The outbox's sending half. Events are written by triggers in the statement that makes their change (migration
 * 0008_order_events); here they leave for the Queue. Invariant: an event is marked sent only after the Queue accepted
 * it, and every unsent event is sent again: by the next write request's `waitUntil`, or by the scheduled sweep once
 * it is a minute old. A publisher claims events before sending (`claimed_at`), so two publishers at once rarely send
 * one event twice; a claim left by a Worker that died expires after a minute. Delivery stays at least once:
 * receivers de-duplicate by `webhook-id`.
 */
import type { Context, Next } from "hono";
import type { AppEnv } from "../../env";
import { logError } from "../../lib/log";
import { nowIso } from "../../lib/time";
import type { EventMessage } from "./events";

/** How long a claim holds, and how old an unsent event must be before the sweep sends it. */
export const CLAIM_MS = 60_000;
/** Events one publisher sends per call: one claim, `sendBatch` calls of at most 100 messages, one update. */
const PUBLISH_LIMIT = 100;

/**
 * Sends up to `limit` unsent events to the Queue and marks them sent. `olderThanMs` leaves younger events to the
 * request that wrote them (the sweep passes a minute). Returns how many were sent; a failed send is logged and the
 * events are released for the next publisher.
 */
export async function publishEvents(env: Env, { olderThanMs = 0, now = Date.now(), limit = PUBLISH_LIMIT } = {}): Promise<number> {
  const cutoff = new Date(now - olderThanMs).toISOString();
  const { results } = await env.DB.prepare(
    `UPDATE events SET claimed_at = ?1 WHERE id IN (
       SELECT id FROM events WHERE sent_at IS NULL AND created_at <= ?2 AND (claimed_at IS NULL OR claimed_at < ?3)
       ORDER BY created_at LIMIT ?4)
     RETURNING id`,
  )
    .bind(now, cutoff, now - CLAIM_MS, limit)
    .all<{ id: string }>();
  if (results.length === 0) return 0;
  const ids = results.map((r) => r.id);
  const idList = JSON.stringify(ids); // one bound parameter, whatever the count (D1 allows 100 per statement)
  try {
    await env.EVENTS.sendBatch(ids.map((id) => ({ body: { kind: "event", id } satisfies EventMessage, contentType: "json" })));
  } catch (err) {
    logError("events not sent to the queue", err, { events: ids.length });
    await env.DB.prepare("UPDATE events SET claimed_at = NULL WHERE claimed_at = ? AND id IN (SELECT value FROM json_each(?))")
      .bind(now, idList)
      .run()
      .catch(() => undefined); // the claim expires on its own
    return 0;
  }
  await env.DB.prepare("UPDATE events SET sent_at = ? WHERE id IN (SELECT value FROM json_each(?))")
    .bind(nowIso(), idList)
    .run();
  return ids.length;
}

/** The routes whose writes can produce events (orders, payments, stock): only these look for events to send. */
const EVENT_WRITERS = /^\/api\/(orders|payments|products)\//;

/**
 * Middleware: after a successful write to an event-producing route, send what it wrote once the response is out
 * (`waitUntil`), so the caller never waits for the Queue and nothing is sent from inside the change.
 */
export async function publishAfterWrite(c: Context<AppEnv>, next: Next) {
  await next();
  if (c.req.method === "GET" || c.req.method === "HEAD" || c.res.status >= 400 || !EVENT_WRITERS.test(c.req.path)) return;
  let ctx: Pick<ExecutionContext, "waitUntil">;
  try {
    ctx = c.executionCtx;
  } catch {
    return; // no execution context (app.request in a unit test): the sweep sends it
  }
  ctx.waitUntil(publishEvents(c.env).catch((err) => logError("publish events failed", err)));
}

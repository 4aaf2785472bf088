/**
 * Fan-out: one event becomes one delivery per active endpoint subscribed to its type, each sent to the Queue as a
 * message of its own (so each is retried on its own). Safe to repeat: a delivery row is unique per (endpoint, event),
 * and only deliveries never attempted are (re)sent, so a fan-out retried after a crash sends what it had not.
 * The event's `data` is built on the first fan-out and stored, so every delivery and retry sends the same bytes.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { events, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { nowIso } from "../../lib/time";
import { productDetail } from "../catalog/products.service";
import { loadOrder } from "../orders/orders.view";
import { queueOrderEmail } from "../messages/order-emails";
import type { EventMessage } from "./events";

type EventRow = typeof events.$inferSelect;

/** The payload's `data`: the order as an admin's GET /api/orders/{id}/ shows it (or the product), plus `sequence`. */
async function buildData(db: Database, event: EventRow): Promise<Record<string, unknown> | null> {
  try {
    if (event.orderId !== null) return { ...(await loadOrder(db, event.orderId)).view, sequence: event.seq };
    if (event.productId !== null) return { ...(await productDetail(db, event.productId, true)), sequence: event.seq };
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null; // deleted since: nothing left to describe
    throw err;
  }
  return null;
}

/** The stored `data` of an event, building it first if no fan-out has yet. Null when its subject is gone. */
export async function eventData(db: Database, event: EventRow): Promise<string | null> {
  if (event.data !== null) return event.data;
  const data = await buildData(db, event);
  if (data === null) return null;
  // The first writer wins: a concurrent fan-out of the same event gets the stored text back, not its own.
  const [stored] = await db
    .update(events)
    .set({ data: sql`coalesce(${events.data}, ${JSON.stringify(data)})` })
    .where(eq(events.id, event.id))
    .returning({ data: events.data });
  return stored?.data ?? null;
}

/** Fans one event out to webhook endpoints and the customer's email; returns how many messages it sent. */
export async function fanOut(env: Env, db: Database, eventId: string): Promise<number> {
  const [event] = await db.select().from(events).where(eq(events.id, eventId));
  if (!event) return 0;
  const [webhooks, emails] = await Promise.all([fanOutWebhooks(env, db, event), queueOrderEmail(env, db, event)]);
  return webhooks + emails;
}

async function fanOutWebhooks(env: Env, db: Database, event: EventRow): Promise<number> {
  const eventId = event.id;
  const endpoints = (
    await db.select({ id: webhookEndpoints.id, events: webhookEndpoints.events }).from(webhookEndpoints).where(eq(webhookEndpoints.isActive, true))
  ).filter((e) => e.events.includes(event.type));
  if (endpoints.length === 0) return 0;
  if ((await eventData(db, event)) === null) return 0;

  const now = nowIso();
  const rows = endpoints.map((e) => ({ endpointId: e.id, eventId, nextAttemptAt: now }));
  const inserts = [];
  for (let i = 0; i < rows.length; i += 30) inserts.push(db.insert(webhookDeliveries).values(rows.slice(i, i + 30)).onConflictDoNothing());
  const neverAttempted = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.eventId, eventId), eq(webhookDeliveries.status, "pending"), eq(webhookDeliveries.attempts, 0)));
  // One batch (one transaction): the select sees the rows inserted before it.
  const results: unknown[] = await db.batch([...inserts, neverAttempted] as unknown as [typeof neverAttempted]);
  const pending = results.at(-1) as { id: number }[];
  for (let i = 0; i < pending.length; i += 100) {
    await env.EVENTS.sendBatch(
      pending.slice(i, i + 100).map((d) => ({ body: { kind: "delivery", id: d.id } satisfies EventMessage, contentType: "json" as const })),
    );
  }
  return pending.length;
}

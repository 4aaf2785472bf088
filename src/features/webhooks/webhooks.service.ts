/**
 * Webhook endpoints and their deliveries, for admins. Invariants: an endpoint's secret leaves the API only in the
 * answer that created or rotated it; a rotated-out secret keeps signing beside the new one for a day, so receivers can
 * switch without losing a message; every URL passes url-rules.ts.
 */
import { and, count, desc, eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { events, webhookDeliveries, webhookEndpoints, type WebhookEndpoint } from "../../db/schema";
import { errorMessage, fieldError, notFound } from "../../lib/errors";
import type { PageRequest } from "../../lib/pagination";
import { nowIso } from "../../lib/time";
import type { EventMessage, EventType } from "../events/events";
import { newSecret } from "./signing";
import { urlProblem } from "./url-rules";
import type { CreateWebhookInput, UpdateWebhookInput } from "./webhooks.schemas";

/** Each endpoint is one more delivery per event: a bound on the fan-out. */
export const MAX_ENDPOINTS = 20;
/** How long a rotated-out secret still signs. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

export const toEndpointOut = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  events: e.events as EventType[],
  description: e.description,
  is_active: e.isActive,
  disabled_reason: e.disabledReason,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
});

function checkUrl(env: Env, url: string) {
  const problem = urlProblem(url, env.WEBHOOKS_ALLOW_INSECURE_URLS === "1");
  if (problem) throw fieldError("url", problem);
}

const unique = <T>(values: T[]) => [...new Set(values)];

export async function createEndpoint(env: Env, db: Database, input: CreateWebhookInput) {
  checkUrl(env, input.url);
  const [{ n }] = await db.select({ n: count() }).from(webhookEndpoints);
  if (n >= MAX_ENDPOINTS) throw fieldError("non_field_errors", `At most ${MAX_ENDPOINTS} webhook endpoints.`);
  const secret = newSecret();
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ url: input.url, events: unique(input.events), description: input.description ?? "", secret })
    .returning();
  return { ...toEndpointOut(row), secret };
}

export async function getEndpoint(db: Database, id: number): Promise<WebhookEndpoint> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  if (!row) throw notFound();
  return row;
}

export async function listEndpoints(db: Database, page: PageRequest) {
  const [rows, [{ n }]] = await Promise.all([
    db.select().from(webhookEndpoints).orderBy(webhookEndpoints.id).limit(page.limit).offset(page.offset),
    db.select({ n: count() }).from(webhookEndpoints),
  ]);
  return { count: n, results: rows.map(toEndpointOut) };
}

/** A PATCH; turning an endpoint back on clears why it was turned off. */
export async function updateEndpoint(env: Env, db: Database, id: number, input: UpdateWebhookInput) {
  if (input.url !== undefined) checkUrl(env, input.url);
  const [row] = await db
    .update(webhookEndpoints)
    .set({
      ...(input.url !== undefined ? { url: input.url } : {}),
      ...(input.events !== undefined ? { events: unique(input.events) } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.is_active !== undefined ? { isActive: input.is_active, disabledReason: null } : {}),
      updatedAt: nowIso(),
    })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  if (!row) throw notFound();
  return toEndpointOut(row);
}

/** Deletes the endpoint and its deliveries; messages still in the Queue for it find nothing and are dropped. */
export async function deleteEndpoint(db: Database, id: number) {
  const [row] = await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id });
  if (!row) throw notFound();
}

export async function rotateSecret(db: Database, id: number) {
  const secret = newSecret();
  const [row] = await db
    .update(webhookEndpoints)
    .set({ secret, previousSecret: webhookEndpoints.secret, previousSecretExpiresAt: Date.now() + PREVIOUS_SECRET_TTL_MS, updatedAt: nowIso() })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  if (!row) throw notFound();
  return { ...toEndpointOut(row), secret };
}

const deliveryColumns = {
  id: webhookDeliveries.id,
  event_id: webhookDeliveries.eventId,
  event_type: events.type,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  last_status: webhookDeliveries.lastStatus,
  last_error: webhookDeliveries.lastError,
  response_body: webhookDeliveries.responseBody,
  next_attempt_at: webhookDeliveries.nextAttemptAt,
  created_at: webhookDeliveries.createdAt,
  updated_at: webhookDeliveries.updatedAt,
};

const toDeliveryOut = <R extends { event_type: string }>(row: R) => ({ ...row, event_type: row.event_type as EventType });

/** An endpoint's deliveries, newest first (the (endpoint_id, id) index, walked backwards). */
export async function listDeliveries(db: Database, endpointId: number, page: PageRequest) {
  await getEndpoint(db, endpointId);
  const scope = eq(webhookDeliveries.endpointId, endpointId);
  const [rows, [{ n }]] = await Promise.all([
    db
      .select(deliveryColumns)
      .from(webhookDeliveries)
      .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
      .where(scope)
      .orderBy(desc(webhookDeliveries.id))
      .limit(page.limit)
      .offset(page.offset),
    db.select({ n: count() }).from(webhookDeliveries).where(scope),
  ]);
  return { count: n, results: rows.map(toDeliveryOut) };
}

/**
 * Sends one delivery again, whatever its state (a `failed` one after the receiver is fixed, or a `succeeded` one the
 * receiver lost). Same message id, so a receiver that already has it can tell. Attempts keep counting. A delivery
 * exists for 30 days after its event was done, a failed one 90 days after its last attempt (events/retention.ts).
 */
export async function redeliver(env: Env, db: Database, endpointId: number, deliveryId: number) {
  const where = and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId));
  const [before] = await db.select({ status: webhookDeliveries.status }).from(webhookDeliveries).where(where);
  if (!before) throw notFound();
  await db.update(webhookDeliveries).set({ status: "pending", nextAttemptAt: nowIso(), updatedAt: nowIso() }).where(where);
  try {
    await env.EVENTS.send({ kind: "delivery", id: deliveryId } satisfies EventMessage, { contentType: "json" });
  } catch {
    await db.update(webhookDeliveries).set({ status: before.status, nextAttemptAt: null, updatedAt: nowIso() }).where(where);
    throw errorMessage(503, "Could not queue the delivery, please retry");
  }
  const [row] = await db.select(deliveryColumns).from(webhookDeliveries).innerJoin(events, eq(events.id, webhookDeliveries.eventId)).where(where);
  return toDeliveryOut(row);
}

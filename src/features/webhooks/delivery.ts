/**
 * One attempt of one webhook delivery, per Standard Webhooks: POST the event's payload, signed, to the endpoint.
 * A 2xx within 10 s is success; anything else (another status, a timeout, a network or TLS failure, a redirect, which
 * is never followed) is a failure the caller retries through the Queue; a 410 Gone disables the endpoint for good.
 * At most 1 KB of the receiver's answer is kept.
 */
import { eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { events, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { nowIso } from "../../lib/time";
import { signatureHeaders } from "./signing";

export const DELIVERY_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 1024;

/** What the consumer does with the message after an attempt. */
export type AttemptOutcome = "done" | "retry";

/** The first `max` bytes of a body as text; the rest is never read. */
async function readAtMost(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  reader.cancel().catch(() => undefined);
  const bytes = new Uint8Array(Math.min(size, max));
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk.subarray(0, bytes.length - at), at);
    at += Math.min(chunk.byteLength, bytes.length - at);
  }
  return new TextDecoder().decode(bytes);
}

/** The exact body sent for an event: `{"type", "timestamp", "data"}`. */
export const payloadOf = (type: string, createdAt: string, data: string) =>
  `{"type":${JSON.stringify(type)},"timestamp":${JSON.stringify(createdAt)},"data":${data}}`;

/**
 * Attempts delivery `deliveryId` once. `nextDelaySeconds` is the wait before the retry a failure leads to (shown as
 * the delivery's next attempt time). Returns "done" when nothing is left to do (success, 410, a deleted endpoint or
 * a disabled one), "retry" when the caller should retry the message.
 */
export async function attemptDelivery(db: Database, deliveryId: number, nextDelaySeconds: number): Promise<AttemptOutcome> {
  const [row] = await db
    .select({
      status: webhookDeliveries.status,
      endpointId: webhookEndpoints.id,
      url: webhookEndpoints.url,
      secret: webhookEndpoints.secret,
      previousSecret: webhookEndpoints.previousSecret,
      previousSecretExpiresAt: webhookEndpoints.previousSecretExpiresAt,
      isActive: webhookEndpoints.isActive,
      eventId: events.id,
      type: events.type,
      data: events.data,
      createdAt: sql<string>`${events.createdAt}`.as("event_created_at"),
    })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!row || row.status === "succeeded") return "done"; // deleted endpoint, or a duplicate message of a success
  const record = (fields: Parameters<ReturnType<typeof db.update<typeof webhookDeliveries>>["set"]>[0]) =>
    db
      .update(webhookDeliveries)
      .set({ ...fields, updatedAt: nowIso() })
      .where(eq(webhookDeliveries.id, deliveryId));
  if (!row.isActive) {
    await record({ status: "failed", lastError: "The endpoint is disabled.", nextAttemptAt: null });
    return "done";
  }
  if (row.data === null) return "retry"; // written by the fan-out before any delivery exists; not expected

  const now = Date.now();
  const body = payloadOf(row.type, row.createdAt, row.data);
  const secrets = [row.secret, ...(row.previousSecret && (row.previousSecretExpiresAt ?? 0) > now ? [row.previousSecret] : [])];
  const headers = {
    "content-type": "application/json",
    "user-agent": "edge-shop-webhooks/1.0",
    ...(await signatureHeaders(secrets, row.eventId, Math.floor(now / 1000), body)),
  };

  let status: number | null = null;
  let answer: string | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(row.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
    status = res.status;
    answer = await readAtMost(res, MAX_RESPONSE_BYTES).catch(() => "");
    if (status >= 300 && status < 400) error = "Redirects are not followed.";
  } catch (err) {
    const name = (err as Error)?.name;
    error = name === "TimeoutError" || name === "AbortError" ? `No answer within ${DELIVERY_TIMEOUT_MS / 1000} s.` : `Request failed: ${String((err as Error)?.message ?? err).slice(0, 200)}`;
  }
  const attempt = { attempts: sql`${webhookDeliveries.attempts} + 1`, lastStatus: status, lastError: error, responseBody: answer };

  if (status !== null && status >= 200 && status < 300) {
    await record({ ...attempt, status: "succeeded", nextAttemptAt: null });
    return "done";
  }
  if (status === 410) {
    await db.batch([
      record({ ...attempt, status: "failed", lastError: "410 Gone: the endpoint was disabled.", nextAttemptAt: null }),
      db
        .update(webhookEndpoints)
        .set({ isActive: false, disabledReason: "The endpoint answered 410 Gone.", updatedAt: nowIso() })
        .where(eq(webhookEndpoints.id, row.endpointId)),
    ]);
    return "done";
  }
  await record({ ...attempt, status: "pending", nextAttemptAt: new Date(now + nextDelaySeconds * 1000).toISOString() });
  return "retry";
}

/** After the last attempt (the message reached the dead-letter queue): the delivery is `failed`. */
export async function markDeliveryFailed(db: Database, deliveryId: number): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status: "failed", nextAttemptAt: null, updatedAt: nowIso() })
    .where(sql`${webhookDeliveries.id} = ${deliveryId} and ${webhookDeliveries.status} = 'pending'`);
}

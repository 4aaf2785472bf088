/**
 * Idempotency-Key handling (Stripe / IETF draft semantics), stored in D1 per (user, scope, key):
 * - the first request claims the key with an INSERT ... ON CONFLICT DO NOTHING (never check-then-act);
 * - a replay with the same request gets the stored status and body, marked `Idempotent-Replayed: true`;
 * - a replay with a different request (or a different non-empty state, e.g. another cart) gets 422;
 * - a replay while the first is still running gets 409; a claim left running for over a minute (the Worker died)
 *   (longer than any checkout may hold stock) can be taken over; 5xx outcomes are not stored, so they stay retryable;
 *   keys expire after 24 hours. A claim is a lease (its created_at): only its holder may store or release it.
 * - a request that creates something ties the key to it in the same write (`resource_id`, see checkout.service.ts): a
 *   retry whose first request died after that write replays the thing it made (`resume`), at once, never a second one;
 * - the same key with a different request is a 422 in every case, also once the first request was abandoned.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env";
import { ApiError, type ErrorBody } from "./errors";
import { sha256Hex } from "./crypto";
import { nowIso, nowSeconds } from "./time";

const TTL_SECONDS = 24 * 60 * 60;
const ABANDONED_AFTER_MS = 5 * 60_000;

export interface IdempotencyKey {
  userId: number;
  scope: string;
  key: string;
}

export interface Fingerprint {
  /** The request as the client sent it (method, path, body). */
  request: string;
  /** Server-side state the request acts on (e.g. cart lines); undefined when there is none to compare. */
  state?: string;
}

export interface StoredOutcome<T> {
  status: number;
  body: T;
  replayed: boolean;
}

interface Row {
  request_hash: string;
  response_status: number | null;
  response_body: string | null;
  resource_id: number | null;
  created_at: string;
  expires_at: number;
}

/** What the running request holds: its key and lease, to tie what it creates to the key in the same write. */
export interface IdempotencyClaim extends IdempotencyKey {
  lease: string;
}

export async function runIdempotent<T>(
  d1: D1Database,
  id: IdempotencyKey,
  fingerprint: Fingerprint,
  run: (claim: IdempotencyClaim) => Promise<{ status: number; body: T }>,
  resume?: (resourceId: number) => Promise<{ status: number; body: T }>,
): Promise<StoredOutcome<T>> {
  const requestHash = await sha256Hex(fingerprint.request);
  const stateHash = fingerprint.state === undefined ? "" : await sha256Hex(fingerprint.state);
  const hash = `${requestHash}:${stateHash}`;

  let lease = await claim(d1, id, hash);
  if (lease === null) {
    const row = await d1
      .prepare("SELECT * FROM idempotency_keys WHERE user_id = ? AND scope = ? AND key = ?")
      .bind(id.userId, id.scope, id.key)
      .first<Row>();
    const expired = row && row.expires_at <= nowSeconds();
    if (row && !expired) {
      const [storedRequest, storedState] = row.request_hash.split(":");
      if (storedRequest !== requestHash || (stateHash && storedState !== stateHash)) {
        throw new ApiError(422, { error: "This Idempotency-Key was already used with a different request" });
      }
      if (row.response_status !== null) {
        return { status: row.response_status, body: JSON.parse(row.response_body ?? "null") as T, replayed: true };
      }
      if (row.resource_id !== null && resume) {
        // The first request made its resource and died (or is finishing): answer with that resource, now.
        const outcome = await resume(row.resource_id);
        await store(d1, id, row.created_at, outcome.status, outcome.body);
        return { ...outcome, replayed: true };
      }
    }
    const abandoned = row && (expired || Date.parse(row.created_at) < Date.now() - ABANDONED_AFTER_MS);
    if (row && !abandoned) throw inProgress();
    // gone (the first run failed with a 5xx and released it), expired, or abandoned before making anything: claim anew
    lease = row ? await takeOver(d1, id, hash, row.created_at) : await claim(d1, id, hash);
    if (lease === null) throw inProgress();
  }

  try {
    const outcome = await run({ ...id, lease });
    await store(d1, id, lease, outcome.status, outcome.body);
    return { ...outcome, replayed: false };
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) await store(d1, id, lease, err.status, err.body);
    else await release(d1, id, lease);
    throw err;
  }
}

/** Request header schema of the routes that accept an Idempotency-Key. */
export const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "Retry-safe key: the same key from the same user returns the first response", example: "3f1c9e4e-checkout-1" }),
});

/**
 * Runs a handler's work under the caller's Idempotency-Key, if one was sent. A replay is marked
 * `Idempotent-Replayed: true`, and a replayed refusal is thrown again with its first status.
 */
export async function withIdempotencyKey<T>(
  c: Context<AppEnv>,
  id: Omit<IdempotencyKey, "key"> & { key: string | undefined },
  fingerprint: () => Promise<Fingerprint> | Fingerprint,
  run: (claim?: IdempotencyClaim) => Promise<{ status: number; body: T }>,
  resume?: (resourceId: number) => Promise<{ status: number; body: T }>,
): Promise<T> {
  if (!id.key) return (await run()).body;
  const outcome = await runIdempotent(c.env.DB, { ...id, key: id.key }, await fingerprint(), run, resume);
  if (outcome.replayed) c.header("Idempotent-Replayed", "true");
  if (outcome.status >= 400) throw new ApiError(outcome.status as ContentfulStatusCode, outcome.body as unknown as ErrorBody);
  return outcome.body;
}

const inProgress = () => new ApiError(409, { error: "A request with this Idempotency-Key is still being processed" });

/** Claims a new key; returns the lease (created_at) or null when the key exists. */
async function claim(d1: D1Database, id: IdempotencyKey, hash: string): Promise<string | null> {
  const claimed = await d1
    .prepare(
      `INSERT INTO idempotency_keys (user_id, scope, key, request_hash, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING created_at`,
    )
    .bind(id.userId, id.scope, id.key, hash, nowSeconds() + TTL_SECONDS)
    .first<{ created_at: string }>();
  return claimed?.created_at ?? null;
}

/** Re-claims an expired or abandoned key; compare-and-set on created_at so only one retry wins. */
async function takeOver(d1: D1Database, id: IdempotencyKey, hash: string, seenCreatedAt: string): Promise<string | null> {
  const lease = nowIso();
  const taken = await d1
    .prepare(
      `UPDATE idempotency_keys SET request_hash = ?, response_status = NULL, response_body = NULL, resource_id = NULL, created_at = ?, expires_at = ?
       WHERE user_id = ? AND scope = ? AND key = ? AND created_at = ? RETURNING key`,
    )
    .bind(hash, lease, nowSeconds() + TTL_SECONDS, id.userId, id.scope, id.key, seenCreatedAt)
    .first();
  return taken === null ? null : lease;
}

async function store(d1: D1Database, id: IdempotencyKey, lease: string, status: number, body: unknown) {
  await d1
    .prepare(
      "UPDATE idempotency_keys SET response_status = ?, response_body = ? WHERE user_id = ? AND scope = ? AND key = ? AND created_at = ? AND response_status IS NULL",
    )
    .bind(status, JSON.stringify(body), id.userId, id.scope, id.key, lease)
    .run();
}

async function release(d1: D1Database, id: IdempotencyKey, lease: string) {
  await d1
    // A key tied to what it made stays: a retry must replay that, not make another.
    .prepare("DELETE FROM idempotency_keys WHERE user_id = ? AND scope = ? AND key = ? AND created_at = ? AND resource_id IS NULL")
    .bind(id.userId, id.scope, id.key, lease)
    .run();
}

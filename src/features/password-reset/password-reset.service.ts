/**
 * Password reset, per OWASP's Forgot Password cheat sheet. Invariants:
 * - a request does the same work whether or not the email belongs to an account (one D1 batch whose statements
 *   match nothing for an unknown address, one Queue message), and always answers the same 200;
 * - the token is 32 random bytes (base64url), stored only as its SHA-256, valid PASSWORD_RESET_TTL_SECONDS, single
 *   use; a newer request spends the user's older tokens;
 * - the link comes from configuration only (PASSWORD_RESET_URL, else PUBLIC_BASE_URL + /reset-password/), never
 *   from the request's Host header; the token leaves the Worker only in the email (the Queue message carries it to
 *   the consumer, never D1 or a log);
 * - confirming changes the password, spends the token and, through the users trigger of migration 0007, ends every
 *   session and device token of the user in the same statement; it does not sign the user in.
 * Throttles: 3 requests per email per hour (silently: the answer stays the same) and 20 per client IP per hour
 * (429 + Retry-After), counted in the same batch.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { passwordResets, throttleCounters, users } from "../../db/schema";
import { ApiError, fieldError } from "../../lib/errors";
import { logError } from "../../lib/log";
import { nowIso } from "../../lib/time";
import { hashPassword, passwordProblems } from "../auth/password";
import type { EventMessage } from "../events/events";

export const RESET_REQUESTED = { detail: "If an account with that email exists, we have sent a reset link." };
export const PER_EMAIL_PER_HOUR = 3;
export const PER_IP_PER_HOUR = 20;
const WINDOW_MS = 60 * 60 * 1000;
const DEFAULT_TTL_SECONDS = 1800;

export const resetTtlSeconds = (env: Env) => {
  const ttl = Number(env.PASSWORD_RESET_TTL_SECONDS);
  return Number.isInteger(ttl) && ttl > 0 ? ttl : DEFAULT_TTL_SECONDS;
};

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function tokenHash(token: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

const invalidToken = () => fieldError("token", "Invalid or expired token.");

/** Handles `POST /api/auth/password-reset/`. Throws 429 only for the per-IP limit. */
export async function requestPasswordReset(env: Env, db: Database, email: string, clientIp: string | null, waitUntil: (p: Promise<unknown>) => void) {
  const now = Date.now();
  const window = now - (now % WINDOW_MS);
  const token = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const hash = await tokenHash(token);
  const emailKey = `reset:email:${await tokenHash(email.trim().toLowerCase())}`;
  // A local request (no CF-Connecting-IP, or loopback: src/lib/client-ip.ts) is held to the per-email limit only.
  const ipKey = `reset:ip:${clientIp ?? "local"}`;
  const count = (key: string) =>
    db
      .insert(throttleCounters)
      .values({ key, windowStart: window, hits: 1 })
      .onConflictDoUpdate({ target: [throttleCounters.key, throttleCounters.windowStart], set: { hits: sql`${throttleCounters.hits} + 1` } })
      .returning({ hits: throttleCounters.hits });
  const hits = (key: string) => sql`(select ${throttleCounters.hits} from ${throttleCounters} where ${throttleCounters.key} = ${key} and ${throttleCounters.windowStart} = ${window})`;
  const allowed = clientIp
    ? sql`${hits(emailKey)} <= ${PER_EMAIL_PER_HOUR} and ${hits(ipKey)} <= ${PER_IP_PER_HOUR}`
    : sql`${hits(emailKey)} <= ${PER_EMAIL_PER_HOUR}`;
  const userId = sql`(select ${users.id} from ${users} where lower(${users.email}) = lower(${email.trim()}) and ${users.isActive} = 1)`;

  const [ipHits] = await db.batch([
    count(ipKey),
    count(emailKey),
    // a newer request makes older tokens useless
    db
      .update(passwordResets)
      .set({ usedAt: nowIso() })
      .where(sql`${passwordResets.userId} = ${userId} and ${passwordResets.usedAt} is null and ${allowed}`),
    db.insert(passwordResets).select(
      sql`select ${hash}, ${userId}, ${now + resetTtlSeconds(env) * 1000}, null, ${nowIso()} where ${userId} is not null and ${allowed}`,
    ),
  ]);
  if (clientIp && (ipHits[0]?.hits ?? 0) > PER_IP_PER_HOUR) {
    const retryAfter = Math.ceil((window + WINDOW_MS - now) / 1000);
    throw new ApiError(429, { detail: `Request was throttled. Expected available in ${retryAfter} seconds.` }, { "Retry-After": String(retryAfter) });
  }
  // Same message for every address: the consumer finds the token's row, or nothing, and sends, or not.
  waitUntil(
    env.EVENTS.send({ kind: "password_reset", token } satisfies EventMessage, { contentType: "json" }).catch((err) =>
      logError("password reset email not queued", err),
    ),
  );
}

export interface ConfirmInput {
  token: string;
  new_password: string;
  new_password2: string;
}

/** Handles `POST /api/auth/password-reset/confirm/`. */
export async function confirmPasswordReset(db: Database, input: ConfirmInput) {
  const hash = await tokenHash(input.token);
  const [row] = await db
    .select({ userId: passwordResets.userId, username: users.username, email: users.email })
    .from(passwordResets)
    .innerJoin(users, sql`${users.id} = ${passwordResets.userId}`)
    .where(sql`${passwordResets.tokenHash} = ${hash} and ${passwordResets.usedAt} is null and ${passwordResets.expiresAt} > ${Date.now()}`);
  if (!row) throw invalidToken();
  if (input.new_password !== input.new_password2) throw fieldError("new_password", "Password fields didn't match.");
  const problems = passwordProblems(input.new_password, { username: row.username, email: row.email });
  if (problems.length) throw new ApiError(400, { new_password: problems });

  const usedAt = nowIso();
  const passwordHash = await hashPassword(input.new_password);
  // Spend the token, then change the password only through the token just spent: two confirms at once change it once.
  const [spent] = await db.batch([
    db
      .update(passwordResets)
      .set({ usedAt })
      .where(sql`${passwordResets.tokenHash} = ${hash} and ${passwordResets.usedAt} is null and ${passwordResets.expiresAt} > ${Date.now()}`)
      .returning({ userId: passwordResets.userId }),
    db
      .update(users)
      .set({ passwordHash })
      .where(sql`${users.id} = (select ${passwordResets.userId} from ${passwordResets} where ${passwordResets.tokenHash} = ${hash} and ${passwordResets.usedAt} = ${usedAt})`),
  ]);
  if (spent.length === 0) throw invalidToken();
}

/**
 * Brute-force protection for login: failures are counted per username and per client IP in LoginGuard Durable
 * Objects. Past the limit, attempts get 429 with Retry-After until the lock ends, whether or not the password is right.
 */
import { ApiError } from "../../lib/errors";
import type { GuardPolicy } from "../../middleware/login-guard.do";

export const USERNAME_POLICY: GuardPolicy = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };
export const CLIENT_POLICY: GuardPolicy = { maxFailures: 20, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

interface GuardKey {
  name: string;
  policy: GuardPolicy;
}

/** The keys a login attempt counts against: the username always, the client IP when the edge tells it. */
export function guardKeys(username: string, clientIp: string | undefined): GuardKey[] {
  const keys = [{ name: `user:${username.trim().toLowerCase()}`, policy: USERNAME_POLICY }];
  if (clientIp) keys.push({ name: `ip:${clientIp}`, policy: CLIENT_POLICY });
  return keys;
}

const guard = (env: Env, key: GuardKey) => env.LOGIN_GUARD.getByName(key.name);

const tooMany = (retryAfter: number) =>
  new ApiError(
    429,
    { detail: `Too many failed login attempts. Try again in ${retryAfter} seconds.`, code: "throttled" },
    { "Retry-After": String(retryAfter) },
  );

export async function assertNotThrottled(env: Env, keys: GuardKey[]): Promise<void> {
  const statuses = await Promise.all(keys.map((k) => guard(env, k).status()));
  const blocked = statuses.filter((s) => s.blocked);
  if (blocked.length) throw tooMany(Math.max(...blocked.map((s) => s.retryAfterSeconds)));
}

export async function recordFailedLogin(env: Env, keys: GuardKey[]): Promise<void> {
  await Promise.all(keys.map((k) => guard(env, k).recordFailure(k.policy)));
}

export async function recordSuccessfulLogin(env: Env, keys: GuardKey[]): Promise<void> {
  await guard(env, keys[0]).reset();
}

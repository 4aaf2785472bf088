/**
 * Brute-force protection for login, in LoginGuard Durable Objects. Each attempt is admitted and counted in one
 * call per key before its password is checked, so parallel bursts get no more checks than the limit. Keys:
 * - username + client IP: the short lock (5 failures in 15 minutes lock that client out of that account for
 *   15 minutes). Locking a pair never locks the account for anyone else, so an attacker cannot lock a victim out;
 * - username alone: a much higher threshold (50 failures in an hour, from any number of clients) with a lock that
 *   starts at one minute and doubles with each new lock, up to an hour: a distributed guess costs real time;
 * - client IP alone: one client spraying many usernames (20 failures in 15 minutes).
 * The pair key is asked first and alone: a client it refuses adds nothing to the username's count.
 * A login or password check that carries a genuine device token of the account (device-tokens.ts) counts against
 * that device alone (5 failures in 15 minutes lock it, the lock doubling up to a day), never against the other keys,
 * and no lock of theirs refuses it: other people's failures cannot lock out a known device, and a stolen device token
 * buys no more guesses than one client gets.
 * change-password checks `old_password` through the same keys, so a stolen access token is no guessing oracle.
 * The client IP is `CF-Connecting-IP`, which Cloudflare sets on every request it forwards (a client cannot
 * choose it); it is only trustworthy when the Worker is reached through Cloudflare, as every deployed Worker is.
 */
import { ApiError } from "../../lib/errors";
import type { AttemptOutcome, GuardPolicy } from "./login-guard.do";
import { objectLocation } from "../../placement/location";

const MINUTE = 60_000;
export const CLIENT_ACCOUNT_POLICY: GuardPolicy = { maxFailures: 5, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE, resetOnSuccess: true };
export const ACCOUNT_POLICY: GuardPolicy = {
  maxFailures: 50,
  windowMs: 60 * MINUTE,
  lockMs: MINUTE,
  resetOnSuccess: false,
  backoff: { factor: 2, maxLockMs: 60 * MINUTE, memoryMs: 24 * 60 * MINUTE },
};
export const CLIENT_POLICY: GuardPolicy = { maxFailures: 20, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE, resetOnSuccess: false };
export const DEVICE_POLICY: GuardPolicy = {
  maxFailures: 5,
  windowMs: 15 * MINUTE,
  lockMs: 15 * MINUTE,
  resetOnSuccess: true,
  backoff: { factor: 2, maxLockMs: 24 * 60 * MINUTE, memoryMs: 24 * 60 * MINUTE },
};

interface GuardKey {
  name: string;
  policy: GuardPolicy;
}

/** An admitted login attempt: settle it with `finishLogin` once the password has been checked. */
export interface LoginAttempt {
  env: Env;
  admitted: Array<{ key: GuardKey; attempt: string }>;
}

/** The keys a login attempt counts against; without a client IP (local runs) every client shares one. */
export function guardKeys(username: string, clientIp: string | undefined) {
  const user = username.trim().toLowerCase();
  return {
    pair: { name: `user:${user}|ip:${clientIp ?? "unknown"}`, policy: CLIENT_ACCOUNT_POLICY },
    wide: [{ name: `user:${user}`, policy: ACCOUNT_POLICY }, ...(clientIp ? [{ name: `ip:${clientIp}`, policy: CLIENT_POLICY }] : [])],
  };
}

const guard = (env: Env, key: GuardKey) => env.LOGIN_GUARD.getByName(key.name, objectLocation(env));

const tooMany = (retryAfter: number) =>
  new ApiError(
    429,
    { detail: `Too many failed login attempts. Try again in ${retryAfter} seconds.`, code: "throttled" },
    { "Retry-After": String(retryAfter) },
  );

/** The one key of a password check that carries a device token: that device's failures only. */
export const deviceKey = (deviceId: string): GuardKey => ({ name: `device:${deviceId}`, policy: DEVICE_POLICY });

/**
 * Admits one attempt on every key, or throws 429 having cancelled what it was admitted to. With `deviceId` (a
 * genuine device token, its binding to the account checked by the caller) only that device's key is asked.
 */
export async function beginLogin(env: Env, username: string, clientIp: string | undefined, deviceId?: string): Promise<LoginAttempt> {
  if (deviceId) {
    const key = deviceKey(deviceId);
    const admission = await guard(env, key).begin(key.policy);
    if (!admission.allowed) throw tooMany(admission.retryAfterSeconds);
    return { env, admitted: [{ key, attempt: admission.attempt }] };
  }
  const { pair, wide } = guardKeys(username, clientIp);
  const first = await guard(env, pair).begin(pair.policy);
  if (!first.allowed) throw tooMany(first.retryAfterSeconds);
  const rest = await Promise.all(wide.map(async (key) => ({ key, admission: await guard(env, key).begin(key.policy) })));
  const login: LoginAttempt = { env, admitted: [{ key: pair, attempt: first.attempt }] };
  const refused: number[] = [];
  for (const { key, admission } of rest) {
    if (admission.allowed) login.admitted.push({ key, attempt: admission.attempt });
    else refused.push(admission.retryAfterSeconds);
  }
  if (refused.length) {
    await finishLogin(login, "cancelled");
    throw tooMany(Math.max(...refused));
  }
  return login;
}

export async function finishLogin(login: LoginAttempt, outcome: AttemptOutcome): Promise<void> {
  await Promise.all(login.admitted.map(({ key, attempt }) => guard(login.env, key).finish(key.policy, attempt, outcome)));
}

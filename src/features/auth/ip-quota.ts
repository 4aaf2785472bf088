/**
 * Hourly quotas per client IP, counted in the LoginGuard object of the key `<name>:<ip>` and admitted before the
 * write they guard, so a parallel burst gets no more than the limit; a write that did not happen gives its place back.
 * Local requests (lib/client-ip.ts) are not counted. Two quotas use it:
 * - registrations (`REGISTRATIONS_PER_IP_PER_HOUR`, 10): one client cannot create accounts in a loop to hoard stock;
 * - new anonymous carts (`GUEST_CARTS_PER_IP_PER_HOUR`, 200): one client cannot fill D1 with carts nobody signs in
 *   to make (a shared address, an office or a mobile network, has many shoppers, hence the higher default).
 */
import { ApiError } from "../../lib/errors";
import type { GuardPolicy } from "./login-guard.do";
import { objectLocation } from "../../placement/location";

const HOUR = 60 * 60_000;

/** The hourly policy for a limit read from configuration, `fallback` when unset or not a positive integer. */
export function hourlyPolicy(configured: string | undefined, fallback: number): GuardPolicy {
  const limit = Number(configured ?? fallback);
  return { maxFailures: Number.isInteger(limit) && limit > 0 ? limit : fallback, windowMs: HOUR, lockMs: HOUR, resetOnSuccess: false };
}

export const registrationPolicy = (env: Env) => hourlyPolicy(env.REGISTRATIONS_PER_IP_PER_HOUR, 10);
export const guestCartPolicy = (env: Env) => hourlyPolicy(env.GUEST_CARTS_PER_IP_PER_HOUR, 200);

/**
 * Admits one write counted against `name:ip` or throws 429 with `Retry-After` (`refusal` says what was refused);
 * returns how to settle it once the write did (or did not) happen.
 */
export async function admitPerIp(
  env: Env,
  name: string,
  policy: GuardPolicy,
  ip: string | null,
  refusal: string,
): Promise<(happened: boolean) => Promise<void>> {
  if (!ip) return async () => undefined;
  const guard = env.LOGIN_GUARD.getByName(`${name}:${ip}`, objectLocation(env));
  const admission = await guard.begin(policy);
  if (!admission.allowed) {
    const retryAfter = String(admission.retryAfterSeconds);
    throw new ApiError(429, { detail: `${refusal} Try again in ${retryAfter} seconds.`, code: "throttled" }, { "Retry-After": retryAfter });
  }
  // a write that happened stays counted ("failure" keeps it in the window); one that did not gives its place back
  return (happened) => guard.finish(policy, admission.attempt, happened ? "failure" : "cancelled");
}

/** Admits one registration from `ip` or throws 429; returns how to settle it once the account is (or is not) written. */
export const admitRegistration = (env: Env, ip: string | null) =>
  admitPerIp(env, "register", registrationPolicy(env), ip, "Too many accounts registered from this address.");

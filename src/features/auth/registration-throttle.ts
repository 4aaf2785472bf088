/**
 * Registration throttle per client IP (`REGISTRATIONS_PER_IP_PER_HOUR`, 10 by default): one client cannot create
 * accounts in a loop to hoard stock with each. Counted in the LoginGuard object of the key `register:<ip>`, admitted
 * before the account is written, so a parallel burst gets no more than the limit; a registration that fails (a taken
 * username) gives its place back. Local requests (lib/client-ip.ts) are not counted.
 */
import { ApiError } from "../../lib/errors";
import type { GuardPolicy } from "./login-guard.do";
import { objectLocation } from "../../placement/location";

const HOUR = 60 * 60_000;

export function registrationPolicy(env: Env): GuardPolicy {
  const limit = Number(env.REGISTRATIONS_PER_IP_PER_HOUR ?? "10");
  return { maxFailures: Number.isInteger(limit) && limit > 0 ? limit : 10, windowMs: HOUR, lockMs: HOUR, resetOnSuccess: false };
}

/** Admits one registration from `ip` or throws 429; returns how to settle it once the account is (or is not) written. */
export async function admitRegistration(env: Env, ip: string | null): Promise<(registered: boolean) => Promise<void>> {
  if (!ip) return async () => undefined;
  const policy = registrationPolicy(env);
  const guard = env.LOGIN_GUARD.getByName(`register:${ip}`, objectLocation(env));
  const admission = await guard.begin(policy);
  if (!admission.allowed) {
    const retryAfter = String(admission.retryAfterSeconds);
    throw new ApiError(
      429,
      { detail: `Too many accounts registered from this address. Try again in ${retryAfter} seconds.`, code: "throttled" },
      { "Retry-After": retryAfter },
    );
  }
  // a registration that happened stays counted ("failure" keeps it in the window); one that did not gives its place back
  return (registered) => guard.finish(policy, admission.attempt, registered ? "failure" : "cancelled");
}

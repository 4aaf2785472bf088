/**
 * LoginGuard: one Durable Object per throttled key (a username with a client IP, a username, a client IP, a device
 * token, or a client IP's registrations).
 * Invariants:
 * - admission and counting are one call: `begin` refuses when the key is locked or already holds `maxFailures`
 *   attempts (finished failures and attempts still in flight), else counts this attempt as a failure until
 *   `finish` says otherwise. A burst of parallel attempts therefore gets at most `maxFailures` password checks;
 * - `maxFailures` finished failures within `windowMs` lock the key; each lock within `backoff.memoryMs` of the
 *   previous one lasts `backoff.factor` times longer, up to `backoff.maxLockMs`;
 * - state lives in the object's storage, so it holds across isolates and restarts. Each call reads, decides and
 *   writes with the synchronous KV API, with no `await` in between: parallel calls cannot interleave and lose
 *   each other's counts (with the async API they did, and a burst got more checks than the limit).
 */
import { DurableObject } from "cloudflare:workers";

export interface GuardPolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  /** A success clears the key (a client that knows the password is no longer suspect); else only its own attempt. */
  resetOnSuccess: boolean;
  backoff?: { factor: number; maxLockMs: number; memoryMs: number };
}

export type Admission = { allowed: true; attempt: string } | { allowed: false; retryAfterSeconds: number };

/** `cancelled`: the attempt was refused by another key before any password check, so it counts for nothing here. */
export type AttemptOutcome = "failure" | "success" | "cancelled";

interface Attempt {
  id: string;
  at: number;
  done: boolean;
}

interface GuardState {
  attempts: Attempt[];
  lockedUntil: number;
  locks: number;
  lastLockAt: number;
  /** Nothing here matters after this time (window, lock and back-off memory all over): the alarm deletes it. */
  keepUntil: number;
}

const empty = (): GuardState => ({ attempts: [], lockedUntil: 0, locks: 0, lastLockAt: 0, keepUntil: 0 });

export class LoginGuard extends DurableObject<Env> {
  /** Admits one attempt (counted as a failure until finished) or refuses it with the seconds to wait. */
  async begin(policy: GuardPolicy): Promise<Admission> {
    const now = Date.now();
    const state = this.load(policy, now);
    if (state.lockedUntil > now) return { allowed: false, retryAfterSeconds: Math.ceil((state.lockedUntil - now) / 1000) };
    if (state.attempts.length >= policy.maxFailures) {
      // Full of attempts still in flight: they finish within a second or two; finished ones leave with the window.
      const inFlight = state.attempts.some((a) => !a.done);
      const oldest = Math.min(...state.attempts.map((a) => a.at));
      return { allowed: false, retryAfterSeconds: inFlight ? 1 : Math.max(1, Math.ceil((oldest + policy.windowMs - now) / 1000)) };
    }
    const attempt = crypto.randomUUID();
    state.attempts.push({ id: attempt, at: now, done: false });
    await this.save(state, policy, now);
    return { allowed: true, attempt };
  }

  /** Settles an admitted attempt: a failure stays counted (and may lock the key), a success or cancel does not. */
  async finish(policy: GuardPolicy, attempt: string, outcome: AttemptOutcome): Promise<void> {
    const now = Date.now();
    const state = this.load(policy, now);
    if (outcome === "success" && policy.resetOnSuccess) {
      await this.ctx.storage.deleteAll();
      return;
    }
    const index = state.attempts.findIndex((a) => a.id === attempt);
    if (index < 0) return;
    if (outcome !== "failure") state.attempts.splice(index, 1);
    else state.attempts[index].done = true;
    if (state.attempts.filter((a) => a.done).length >= policy.maxFailures) this.lock(state, policy, now);
    await this.save(state, policy, now);
  }

  /** Forgets a key once nothing about it matters any more, so idle keys cost no storage. */
  async alarm(): Promise<void> {
    const state = this.ctx.storage.kv.get<GuardState>("state");
    if (!state || Date.now() >= state.keepUntil) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(state.keepUntil);
  }

  private lock(state: GuardState, policy: GuardPolicy, now: number) {
    const backoff = policy.backoff;
    const remembered = backoff && now - state.lastLockAt < backoff.memoryMs ? state.locks : 0;
    const lockMs = backoff ? Math.min(policy.lockMs * backoff.factor ** remembered, backoff.maxLockMs) : policy.lockMs;
    state.lockedUntil = now + lockMs;
    state.locks = remembered + 1;
    state.lastLockAt = now;
    state.attempts = [];
  }

  private load(policy: GuardPolicy, now: number): GuardState {
    const state = this.ctx.storage.kv.get<GuardState>("state") ?? empty();
    state.attempts = state.attempts.filter((a) => a.at > now - policy.windowMs);
    return state;
  }

  private async save(state: GuardState, policy: GuardPolicy, now: number) {
    state.keepUntil = Math.max(state.lockedUntil, now + policy.windowMs, state.lastLockAt + (policy.backoff?.memoryMs ?? 0));
    this.ctx.storage.kv.put("state", state);
    await this.ctx.storage.setAlarm(state.keepUntil);
  }
}

/**
 * LoginGuard: one Durable Object per throttled key (a username, or a client IP). It counts failed logins in a
 * sliding window and locks the key for a while once the limit is reached. Counts live in the object's storage,
 * so they hold across isolates and restarts, unlike in-memory counters.
 */
import { DurableObject } from "cloudflare:workers";

export interface GuardPolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export interface GuardStatus {
  blocked: boolean;
  retryAfterSeconds: number;
}

export class LoginGuard extends DurableObject<Env> {
  /** Whether attempts are refused right now. */
  async status(): Promise<GuardStatus> {
    const lockedUntil = (await this.ctx.storage.get<number>("lockedUntil")) ?? 0;
    const wait = lockedUntil - Date.now();
    return { blocked: wait > 0, retryAfterSeconds: wait > 0 ? Math.ceil(wait / 1000) : 0 };
  }

  /** Records one failure; locks the key when the window holds `maxFailures` of them. */
  async recordFailure(policy: GuardPolicy): Promise<GuardStatus> {
    const now = Date.now();
    const failures = ((await this.ctx.storage.get<number[]>("failures")) ?? []).filter((t) => t > now - policy.windowMs);
    failures.push(now);
    if (failures.length >= policy.maxFailures) {
      await this.ctx.storage.put({ failures: [], lockedUntil: now + policy.lockMs });
      await this.ctx.storage.setAlarm(now + policy.lockMs + policy.windowMs);
    } else {
      await this.ctx.storage.put("failures", failures);
      await this.ctx.storage.setAlarm(now + policy.windowMs);
    }
    return this.status();
  }

  /** A successful login clears the username's failures. */
  async reset(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  /** Forget everything once nothing is pending, so idle keys cost no storage. */
  async alarm(): Promise<void> {
    const { blocked } = await this.status();
    if (!blocked) await this.ctx.storage.deleteAll();
  }
}

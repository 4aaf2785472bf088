/**
 * ClientHolds: one Durable Object per client IP, the ledger of the units that address holds in unpaid orders, across
 * all its accounts (OWASP OAT-021 "Denial of Inventory": a crowd of throwaway accounts from one address must not
 * empty a product). Invariants:
 * - `admit` checks and records a checkout's units in one synchronous step (no `await` between reading and writing the
 *   ledger), so concurrent checkouts from one address, from any number of accounts, never pass the cap together;
 * - an entry stands for a checkout's hold key. It leaves when the checkout fails (`release`), when it is older than
 *   the unpaid-order lifetime, or when D1 shows its order paid or cancelled, or never written once the checkout's
 *   deadline has passed (D1 is asked only when a checkout would be refused), so the ledger refuses no more than the
 *   units really held, and a lost `release` heals itself.
 */
import { DurableObject } from "cloudflare:workers";
import { UNPAID_ORDER_STATUSES } from "../../db/schema";

interface Entry {
  holdKey: string;
  productId: number;
  units: number;
  at: number;
}

export interface HoldRequest {
  holdKey: string;
  lines: Array<{ productId: number; units: number }>;
  cap: number;
  /** Entries older than this are gone (the unpaid order has expired by then). */
  lifetimeMs: number;
  /** Entries younger than this may belong to a checkout still writing its order: D1 is not asked about them. */
  inFlightMs: number;
}

export type HoldAdmission = { ok: true } | { ok: false; productId: number; held: number; retryAfterSeconds: number };

export class ClientHolds extends DurableObject<Env> {
  async admit(request: HoldRequest): Promise<HoldAdmission> {
    let admission = this.tryAdmit(request, Date.now());
    if (!admission.ok) {
      // Would refuse: first drop the entries whose order is no longer unpaid (paid, cancelled, never written).
      await this.forgetSettled(request);
      admission = this.tryAdmit(request, Date.now());
    }
    if (admission.ok) await this.ctx.storage.setAlarm(Date.now() + request.lifetimeMs);
    return admission;
  }

  /** A checkout that failed gives its units back. */
  async release(holdKey: string): Promise<void> {
    const entries = this.load(Number.MAX_SAFE_INTEGER, Date.now()).filter((e) => e.holdKey !== holdKey);
    await this.save(entries);
  }

  async alarm(): Promise<void> {
    const keepUntil = this.ctx.storage.kv.get<number>("keepUntil") ?? 0;
    if (Date.now() >= keepUntil) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(keepUntil);
  }

  private tryAdmit(request: HoldRequest, now: number): HoldAdmission {
    const entries = this.load(request.lifetimeMs, now);
    for (const line of request.lines) {
      const mine = entries.filter((e) => e.productId === line.productId);
      const held = mine.reduce((sum, e) => sum + e.units, 0);
      if (held + line.units > request.cap) {
        const oldest = Math.min(now, ...mine.map((e) => e.at));
        return { ok: false, productId: line.productId, held, retryAfterSeconds: Math.max(1, Math.ceil((oldest + request.lifetimeMs - now) / 1000)) };
      }
    }
    for (const line of request.lines) entries.push({ holdKey: request.holdKey, productId: line.productId, units: line.units, at: now });
    this.ctx.storage.kv.put("entries", entries);
    this.ctx.storage.kv.put("keepUntil", now + request.lifetimeMs);
    return { ok: true };
  }

  private async forgetSettled(request: HoldRequest) {
    const now = Date.now();
    const entries = this.load(request.lifetimeMs, now);
    const keys = [...new Set(entries.map((e) => e.holdKey))];
    const status = new Map<string, string>();
    for (let i = 0; i < keys.length; i += 90) {
      const part = keys.slice(i, i + 90);
      const { results } = await this.env.DB.prepare(`SELECT hold_key, status FROM orders WHERE hold_key IN (${part.map(() => "?").join(",")})`)
        .bind(...part)
        .all<{ hold_key: string; status: string }>();
      for (const row of results) status.set(row.hold_key, row.status);
    }
    const unpaid: readonly string[] = UNPAID_ORDER_STATUSES;
    const bornBefore = new Map(entries.map((e) => [e.holdKey, e.at]));
    // An order that exists and is no longer unpaid holds nothing; one that does not exist yet may still be written
    // by a checkout in flight, so only an old enough entry without an order is dropped.
    const settled = new Set(
      keys.filter((key) => {
        const orderStatus = status.get(key);
        return orderStatus === undefined ? bornBefore.get(key)! < now - request.inFlightMs : !unpaid.includes(orderStatus);
      }),
    );
    // Read again after the await: checkouts admitted meanwhile stay.
    await this.save(this.load(request.lifetimeMs, Date.now()).filter((e) => !settled.has(e.holdKey)));
  }

  private load(lifetimeMs: number, now: number): Entry[] {
    return (this.ctx.storage.kv.get<Entry[]>("entries") ?? []).filter((e) => e.at > now - lifetimeMs);
  }

  private async save(entries: Entry[]) {
    this.ctx.storage.kv.put("entries", entries);
  }
}

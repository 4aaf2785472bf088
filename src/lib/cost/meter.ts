/**
 * The cost meter's step model (issue 14): one request's I/O, in the order it started, grouped into round trips in
 * sequence, and the far client's modeled latency. The bindings are wrapped in ./bindings.ts, the header in ./report.ts.
 *
 * Round trips in sequence (`rt`): a step starts when an I/O starts while none of the request's other I/O is in
 * flight; an I/O started while others are in flight joins their step. So a concurrent wave (`Promise.all`) is one
 * step and a call made after awaiting the previous one is the next. Parallel branches that each make several calls
 * can merge into fewer steps than their longest branch, so `rt` is a lower bound of the critical path; `rt_max` is an
 * upper bound (an I/O is one deeper than the deepest I/O finished when it started, related or not); they agree
 * unless parallel branches have sequences of their own. Modeled latency (`model_ms`): 20 ms client to edge plus, per
 * step, its slowest I/O: 150 ms to the D1 primary, a Durable Object or a KV write; 5 ms to a D1 read replica (a read
 * through a session, except the first one of a "first-primary" session), a KV read or the Cache API. I/O the response
 * does not wait for (handed to waitUntil, like the edge-cache put, or still running when the response is returned) is
 * `bg`: in the operation and row totals, not in the steps.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export const LATENCY_MS = { client: 20, far: 150, near: 5 } as const;
export type Reach = "far" | "near";

const COUNTERS = [
  "d1",
  "d1_replica",
  "rows_read",
  "rows_written",
  "do",
  "kv",
  "kv_reads",
  "kv_writes",
  "kv_deletes",
  "kv_lists",
  "cache",
  "cache_hits",
  "rows_unknown",
] as const;
export type Counter = (typeof COUNTERS)[number];

export type CostReport = { rt: number; rt_max: number; model_ms: number; bg: number } & Record<Counter, number>;

export interface D1Meta {
  rows_read?: number;
  rows_written?: number;
}

const meterStorage = new AsyncLocalStorage<CostMeter>();

/** The meter of the request whose code is running (for I/O made through globals, like the Cache API), if any. */
export const currentMeter = (): CostMeter | undefined => meterStorage.getStore();

/** One I/O of the request, in start order: what it was, where it stands in the sequence, and its modeled reach. */
export interface IoRecord {
  what: string;
  reach: Reach;
  /** The step (wave) it belongs to: it joined the I/O in flight when it started, or opened the next step. */
  wave: number;
  /** 1 + the deepest of the request's I/O that had finished when it started (the upper bound, `rt_max`). */
  depth: number;
  /** Not waited for by the response: started after it, handed to waitUntil, or still running when it went out. */
  background: boolean;
}

interface Io extends IoRecord {
  settled: boolean;
}

/** The counters of one request. */
export class CostMeter {
  readonly counts = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Record<Counter, number>;
  /** Every I/O of the request, for finding which call is the extra round trip. */
  readonly trace: IoRecord[] = [];
  private waves = 0;
  private waiting = 0;
  private depthDone = 0;
  private background = 0;
  private readonly running = new Set<Io>();
  private readonly byPromise = new WeakMap<object, Io>();
  private frozen: { rt: number; rt_max: number; model_ms: number } | null = null;

  /** Runs `fn` with this meter as the request's (so Cache API calls made inside are counted here). */
  run<R>(fn: () => R): R {
    return meterStorage.run(this, fn);
  }

  /** Records one I/O: a new step if none of the request's other I/O is in flight, else part of the current one. */
  track<T>(what: string, reach: Reach, start: () => PromiseLike<T>, after?: (value: T) => void): Promise<T> {
    const io: Io = { what, reach, wave: 0, depth: this.depthDone + 1, background: this.frozen !== null, settled: false };
    if (io.background) this.background++;
    else {
      if (this.waiting === 0) this.waves++;
      io.wave = this.waves;
      this.waiting++;
    }
    this.trace.push(io);
    this.running.add(io);
    const settle = () => {
      io.settled = true;
      this.running.delete(io);
      if (io.background) return;
      this.waiting--;
      this.depthDone = Math.max(this.depthDone, io.depth);
    };
    let pending: PromiseLike<T>;
    try {
      pending = start();
    } catch (err) {
      settle();
      throw err;
    }
    const tracked = Promise.resolve(pending).then(
      (value) => {
        settle();
        after?.(value);
        return value;
      },
      (err: unknown) => {
        settle();
        throw err;
      },
    );
    this.byPromise.set(tracked, io);
    return tracked;
  }

  /** `promise` went to waitUntil: if it is one of this request's I/O, the response does not wait for it. */
  detach(promise: unknown): void {
    const io = typeof promise === "object" && promise !== null ? this.byPromise.get(promise) : undefined;
    if (!io || io.settled || io.background) return;
    this.toBackground(io);
  }

  private toBackground(io: Io): void {
    io.background = true;
    this.background++;
    this.waiting--;
  }

  /** An execution context whose waitUntil detaches this request's I/O from the response's sequence. */
  context(ctx: ExecutionContext): ExecutionContext {
    return new Proxy(ctx, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target);
        if (prop === "waitUntil") {
          return (promise: Promise<unknown>) => {
            this.detach(promise);
            return Reflect.apply(value, target, [promise]);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  addRows(metas: readonly D1Meta[]): void {
    if (metas.length === 0) this.counts.rows_unknown++;
    for (const meta of metas) {
      this.counts.rows_read += meta.rows_read ?? 0;
      this.counts.rows_written += meta.rows_written ?? 0;
    }
  }

  /** The response is out: fixes the sequence; what is still running from now on is background work. */
  close(): CostReport {
    if (this.frozen === null) {
      for (const io of this.running) if (!io.background) this.toBackground(io);
      this.frozen = this.sequence();
    }
    return this.report();
  }

  report(): CostReport {
    return { ...(this.frozen ?? this.sequence()), ...this.counts, bg: this.background };
  }

  /** Steps that hold at least one I/O the response waited for; each costs its slowest I/O. */
  private sequence(): { rt: number; rt_max: number; model_ms: number } {
    const slowest = new Map<number, number>();
    for (const io of this.trace) {
      if (!io.background) slowest.set(io.wave, Math.max(slowest.get(io.wave) ?? 0, LATENCY_MS[io.reach]));
    }
    const steps = [...slowest.values()];
    return { rt: steps.length, rt_max: this.depthDone, model_ms: LATENCY_MS.client + steps.reduce((a, b) => a + b, 0) };
  }
}

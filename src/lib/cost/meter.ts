/**
 * The cost meter's step model (issue 14, places of issue 24): one request's I/O, in the order it started, grouped into
 * round trips in sequence, and the far client's modeled latency. The bindings are wrapped in ./bindings.ts, the header
 * in ./report.ts.
 *
 * Round trips in sequence (`rt`): a step starts when an I/O starts while none of the request's other I/O is in
 * flight; an I/O started while others are in flight joins their step. So a concurrent wave (`Promise.all`) is one
 * step and a call made after awaiting the previous one is the next. Parallel branches that each make several calls
 * can merge into fewer steps than their longest branch, so `rt` is a lower bound of the critical path; `rt_max` is an
 * upper bound (an I/O is one deeper than the deepest I/O finished when it started, related or not); they agree
 * unless parallel branches have sequences of their own.
 *
 * Where each I/O goes decides its hop (`reachOf`). The request runs on one of two sides: at the `edge`, next to the
 * shopper, or on the `data` side, in the region of the D1 primary and the Durable Objects (a write the edge forwarded,
 * src/placement/). A `long` hop crosses between the two (150 ms): the edge to the D1 primary or an object, the edge to
 * the data side, and either side to KV's central stores (a KV write: KV keeps its data "in a small number of
 * centralized data centers", not in our region). A `short` hop stays inside the data region (3 ms): the data side to
 * the D1 primary or an object. A `local` one is answered where the Worker runs (5 ms): a D1 read replica (a read
 * through a session, except the first one of a "first-primary" session), a KV read, the Cache API.
 * Modeled latency (`model_ms`): 20 ms client to edge plus, per step, its slowest I/O; a forwarded request adds the
 * data side's steps to the edge's hop. I/O the response does not wait for (handed to waitUntil, like the edge-cache
 * put, or still running when the response is returned) is `bg`: in the operation and row totals, not in the steps.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Modeled one-hop latencies. `long`: the figure for a shopper far from the data region. `short`: Cloudflare's
 * placement docs, "reducing round-trip latency from 20 to 30 milliseconds per query to 1 to 3 milliseconds"
 * (developers.cloudflare.com/workers/configuration/placement/, Placement Hints), the upper end. `local`: unchanged
 * from issue 14 (an answer from the Worker's own location).
 */
export const LATENCY_MS = { client: 20, long: 150, short: 3, local: 5 } as const;
export type Reach = "long" | "short" | "local";
/** Where the request's code runs: next to the shopper, or next to the data (a forwarded write). */
export type Side = "edge" | "data";
/** Where an I/O goes: the data region (D1 primary, objects), the Worker's own location, KV's central stores, or the
 * edge's call to the data side. */
export type Target = "region" | "here" | "central" | "hop";

/** The rule: what one I/O to `target` costs from `side`. */
export function reachOf(target: Target, side: Side): Reach {
  if (target === "here") return "local";
  if (target === "region") return side === "data" ? "short" : "long";
  return "long"; // central (KV's stores are nobody's region) and the hop itself
}

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

/** `long` and `short`: steps whose slowest I/O was that hop (the rest were local). */
interface Sequence {
  rt: number;
  rt_max: number;
  model_ms: number;
  long: number;
  short: number;
}
export type CostReport = Sequence & Record<Counter, number> & { bg: number };

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
  private frozen: Sequence | null = null;
  /** Reports of the data side, for a request this edge forwarded: its steps follow the hop's. */
  private readonly remote: CostReport[] = [];

  constructor(readonly side: Side = "edge") {}

  /** Runs `fn` with this meter as the request's (so Cache API calls made inside are counted here). */
  run<R>(fn: () => R): R {
    return meterStorage.run(this, fn);
  }

  /** Records one I/O: a new step if none of the request's other I/O is in flight, else part of the current one. */
  track<T>(what: string, target: Target, start: () => PromiseLike<T>, after?: (value: T) => void): Promise<T> {
    const io: Io = { what, reach: reachOf(target, this.side), wave: 0, depth: this.depthDone + 1, background: this.frozen !== null, settled: false };
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

  /** Adds the data side's report of a forwarded request (its steps ran inside this side's hop, one after another). */
  absorb(remote: CostReport): void {
    this.remote.push(remote);
  }

  report(): CostReport {
    const own: CostReport = { ...(this.frozen ?? this.sequence()), ...this.counts, bg: this.background };
    for (const remote of this.remote) {
      for (const key of Object.keys(own) as Array<keyof CostReport>) own[key] += remote[key] ?? 0;
      own.model_ms -= LATENCY_MS.client; // the client's leg is counted once, here
    }
    return own;
  }

  /** Steps that hold at least one I/O the response waited for; each costs its slowest I/O. */
  private sequence(): Sequence {
    const slowest = new Map<number, Reach>();
    for (const io of this.trace) {
      const seen = slowest.get(io.wave);
      if (!io.background && (!seen || LATENCY_MS[io.reach] > LATENCY_MS[seen])) slowest.set(io.wave, io.reach);
    }
    const steps = [...slowest.values()];
    return {
      rt: steps.length,
      rt_max: this.depthDone,
      model_ms: LATENCY_MS.client + steps.reduce((sum, reach) => sum + LATENCY_MS[reach], 0),
      long: steps.filter((reach) => reach === "long").length,
      short: steps.filter((reach) => reach === "short").length,
    };
  }
}

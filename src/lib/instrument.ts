/**
 * The cost meter of issue 14: what one request costs in I/O, counted, not guessed. Off unless the Worker runs with
 * the var `INSTRUMENT=1` and the request asks with `X-Cost-Report: 1`; the response then carries
 * `X-Cost: rt=2;model_ms=320;d1=2;d1_replica=0;rows_read=51;...`. When off, the fetch entry compares one string and
 * calls the app exactly as before: no wrapper, no proxy, no patched prototype (the first metered request taps the D1
 * transport and the Cache API for the isolate's life; calls outside a metered request pass straight through).
 * Never set INSTRUMENT in production: the header describes the backend to anyone who asks.
 *
 * Only the Worker's own I/O is counted, through a wrapped `env` (a Durable Object's own D1 writes are the object's):
 * - D1: every prepare().first/all/run/raw, batch and exec, on the database or on a `withSession()` session; rows
 *   read and written from D1's `meta` (a batch sums its statements).
 * - Durable Objects: every method call on a stub from a namespace binding (`get`, `getByName`, `jurisdiction`).
 * - KV: every get/getWithMetadata/put/delete/list. Cache API (a global, so attributed through AsyncLocalStorage):
 *   every match/put/delete; a match that returns a response is a hit.
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

export const COST_HEADER = "X-Cost";
export const COST_REQUEST_HEADER = "X-Cost-Report";
export const LATENCY_MS = { client: 20, far: 150, near: 5 } as const;
type Reach = "far" | "near";

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
type Counter = (typeof COUNTERS)[number];

export type CostReport = { rt: number; rt_max: number; model_ms: number; bg: number } & Record<Counter, number>;

interface D1Meta {
  rows_read?: number;
  rows_written?: number;
}

const meterStorage = new AsyncLocalStorage<CostMeter>();

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

export const formatCost = (report: CostReport): string =>
  Object.entries(report)
    .map(([key, value]) => `${key}=${value}`)
    .join(";");

// ---- D1 ----

// D1's first() and raw() drop the result's meta (and drizzle reads through raw()), so the rows come from the
// session transport every D1 call goes through. The tap hands a result to a sink only while a metered call is on the
// stack (set and cleared synchronously around it), so nobody else's query is attributed, inside a Durable Object
// either. If a runtime renames the transport, the meter falls back to the results' meta and counts `rows_unknown`.
let d1MetaSink: ((meta: D1Meta) => void) | null = null;
let d1Tapped = false;

function tapD1Transport(db: D1Database): void {
  if (d1Tapped) return;
  d1Tapped = true;
  const session = typeof db.withSession === "function" ? db.withSession("first-primary") : null;
  const proto = session ? (Object.getPrototypeOf(session) as Record<string, unknown>) : null;
  if (!proto) return;
  for (const name of ["_sendOrThrow", "_queryOrThrow"]) {
    const original = proto[name];
    if (typeof original !== "function") continue;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const sink = d1MetaSink;
      const out = Reflect.apply(original, this, args) as Promise<unknown>;
      if (!sink) return out;
      return Promise.resolve(out).then((result) => {
        for (const r of [result].flat() as Array<{ meta?: D1Meta } | undefined>) if (r?.meta) sink(r.meta);
        return result;
      });
    };
  }
}

const READ_SQL = /^\s*(select|with|pragma|explain|values)\b/i;
const WRITE_WORD = /\b(insert|update|delete|replace|create|drop|alter)\b/i;
const isRead = (sql: string) => READ_SQL.test(sql) && !WRITE_WORD.test(sql);
const sqlOf = (stmt: D1PreparedStatement) => (stmt as unknown as { statement?: string }).statement ?? "";

/** Where a D1 call is served: the primary, unless it is a read through a session that may use a replica. */
interface D1Route {
  session: { firstPrimary: boolean; used: boolean } | null;
}

function d1Reach(route: D1Route, reads: boolean): Reach {
  const session = route.session;
  if (!session) return "far";
  const first = !session.used;
  session.used = true;
  return reads && !(first && session.firstPrimary) ? "near" : "far";
}

const metaOf = (result: unknown): D1Meta[] =>
  ([result].flat() as Array<{ meta?: D1Meta } | null>).flatMap((r) => (r && typeof r === "object" && r.meta ? [r.meta] : []));

function meteredD1<T>(meter: CostMeter, route: D1Route, sqls: string[], resultHasMeta: boolean, call: () => Promise<T>): Promise<T> {
  const reach = d1Reach(route, sqls.every(isRead));
  meter.counts.d1++;
  if (reach === "near") meter.counts.d1_replica++;
  return meter.track(`D1 ${sqls.join("; ").replace(/\s+/g, " ").slice(0, 120)}`, reach, () => {
    const metas: D1Meta[] = [];
    d1MetaSink = (meta) => metas.push(meta);
    let pending: Promise<T>;
    try {
      pending = call();
    } finally {
      d1MetaSink = null;
    }
    return pending.then((result) => {
      meter.addRows(metas.length > 0 || !resultHasMeta ? metas : metaOf(result));
      return result;
    });
  });
}

const realStatement = new WeakMap<object, D1PreparedStatement>();
const STATEMENT_RUNS = new Set(["first", "all", "run", "raw"]);

function meterStatement(stmt: D1PreparedStatement, meter: CostMeter, route: D1Route): D1PreparedStatement {
  const proxy = new Proxy(stmt, {
    get(target, prop) {
      if (prop === "bind") return (...values: unknown[]) => meterStatement(target.bind(...values), meter, route);
      if (typeof prop === "string" && STATEMENT_RUNS.has(prop)) {
        const method = Reflect.get(target, prop, target) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) =>
          meteredD1(meter, route, [sqlOf(target)], prop === "all" || prop === "run", () => Reflect.apply(method, target, args));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  realStatement.set(proxy, stmt);
  return proxy;
}

type D1Like = Pick<D1DatabaseSession, "prepare" | "batch"> & Partial<Pick<D1Database, "exec" | "withSession">>;

function meterD1<D extends D1Like>(db: D, meter: CostMeter, route: D1Route): D {
  return new Proxy(db, {
    get(target, prop) {
      switch (prop) {
        case "prepare":
          return (sql: string) => meterStatement(target.prepare(sql), meter, route);
        case "batch":
          return (statements: D1PreparedStatement[]) => {
            const real = statements.map((s) => realStatement.get(s) ?? s);
            return meteredD1(meter, route, real.map(sqlOf), true, () => target.batch(real));
          };
        case "exec":
          return (sql: string) => meteredD1(meter, route, [sql], false, () => target.exec!(sql));
        case "withSession":
          return (constraint?: string) =>
            meterD1(target.withSession!(constraint as D1SessionConstraint), meter, { session: { firstPrimary: constraint === "first-primary", used: false } });
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// ---- Durable Objects ----

function meterStub<S extends object>(stub: S, meter: CostMeter): S {
  return new Proxy(stub, {
    get(target, prop) {
      // RPC stubs answer any property name with a callable; `then` must stay as it is so a stub is never awaited as
      // a promise, and `id`/`name` are plain values.
      const value = Reflect.get(target, prop, target);
      if (typeof prop === "symbol" || prop === "then" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        meter.counts.do++;
        return meter.track(`DO ${prop}`, "far", () => Reflect.apply(value, target, args) as PromiseLike<unknown>);
      };
    },
  });
}

function meterNamespace<N extends object>(ns: N, meter: CostMeter): N {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName") return (...args: unknown[]) => meterStub(Reflect.apply(value, target, args) as object, meter);
      if (prop === "jurisdiction") return (...args: unknown[]) => meterNamespace(Reflect.apply(value, target, args) as object, meter);
      return value.bind(target);
    },
  });
}

// ---- KV ----

const KV_OPS: Record<string, [Reach, Counter]> = {
  get: ["near", "kv_reads"],
  getWithMetadata: ["near", "kv_reads"],
  put: ["far", "kv_writes"],
  delete: ["far", "kv_deletes"],
  list: ["far", "kv_lists"],
};

function meterKv<K extends object>(kv: K, meter: CostMeter): K {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const op = typeof prop === "string" ? KV_OPS[prop] : undefined;
      if (!op) return value.bind(target);
      return (...args: unknown[]) => {
        meter.counts.kv++;
        meter.counts[op[1]]++;
        return meter.track(`KV ${String(prop)}`, op[0], () => Reflect.apply(value, target, args) as Promise<unknown>);
      };
    },
  });
}

// ---- Cache API ----

let cacheTapped = false;

function tapCacheApi(): void {
  if (cacheTapped || typeof Cache === "undefined") return;
  cacheTapped = true;
  const proto = Cache.prototype as unknown as Record<string, unknown>;
  for (const name of ["match", "put", "delete"]) {
    const original = proto[name];
    if (typeof original !== "function") continue;
    proto[name] = function (this: Cache, ...args: unknown[]) {
      const meter = meterStorage.getStore();
      if (!meter) return Reflect.apply(original, this, args);
      meter.counts.cache++;
      return meter.track(`cache ${name}`, "near", () => Reflect.apply(original, this, args) as Promise<unknown>, (result) => {
        if (name === "match" && result) meter.counts.cache_hits++;
      });
    };
  }
}

// ---- the wrapped env and the fetch entry ----

type BindingKind = "d1" | "do" | "kv";
const KINDS: Record<string, BindingKind> = { D1Database: "d1", DurableObjectNamespace: "do", KvNamespace: "kv" };

/** By the runtime's class, else by shape (never for service bindings: an RPC stub has every method name). */
function bindingKind(value: object): BindingKind | null {
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? "";
  if (KINDS[name]) return KINDS[name];
  if (name === "Fetcher") return null;
  const v = value as Record<string, unknown>;
  if (typeof v.prepare === "function" && typeof v.batch === "function") return "d1";
  if (typeof v.idFromName === "function" && typeof v.get === "function") return "do";
  if (typeof v.getWithMetadata === "function" && typeof v.put === "function" && typeof v.list === "function") return "kv";
  return null;
}

/** `env` whose D1, Durable Object and KV bindings count every call into `meter` (other bindings pass through). */
export function instrumentEnv<E extends object>(env: E, meter: CostMeter): E {
  tapCacheApi();
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(env, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (value === null || typeof value !== "object") return value;
      if (!wrapped.has(prop)) {
        const kind = bindingKind(value);
        let metered: unknown = value;
        if (kind === "d1") {
          tapD1Transport(value as D1Database);
          metered = meterD1(value as D1Database, meter, { session: null });
        } else if (kind === "do") metered = meterNamespace(value, meter);
        else if (kind === "kv") metered = meterKv(value, meter);
        wrapped.set(prop, metered);
      }
      return wrapped.get(prop);
    },
  });
}

/** Runs one request through `handler` with a fresh meter; the cost is fixed when the response is returned. */
export async function meterRequest<E extends object>(
  handler: (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>,
  request: Request,
  env: E,
  ctx: ExecutionContext,
): Promise<{ response: Response; cost: CostReport; meter: CostMeter }> {
  const meter = new CostMeter();
  const response = await meter.run(() => handler(request, instrumentEnv(env, meter), meter.context(ctx)));
  return { response, cost: meter.close(), meter };
}

/**
 * The Worker's fetch entry: `handler` as is, unless the var INSTRUMENT is "1" and the request sends
 * `X-Cost-Report: 1`; then the response gets an `X-Cost` header with the request's cost.
 */
export function withCostReport<E extends object>(
  handler: (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>,
): (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response> {
  return (request, env, ctx) => {
    if ((env as { INSTRUMENT?: unknown }).INSTRUMENT !== "1" || request.headers.get(COST_REQUEST_HEADER) !== "1") return handler(request, env, ctx);
    return meterRequest(handler, request, env, ctx).then(({ response, cost }) => {
      const out = new Response(response.body, response);
      out.headers.set(COST_HEADER, formatCost(cost));
      return out;
    });
  };
}

/**
 * The cost meter's wrapped bindings: only the Worker's own I/O is counted, through a wrapped `env` (a Durable
 * Object's own D1 writes are the object's):
 * - D1: every prepare().first/all/run/raw, batch and exec, on the database or on a `withSession()` session; rows
 *   read and written from D1's `meta` (a batch sums its statements).
 * - Durable Objects: every method call on a stub from a namespace binding (`get`, `getByName`, `jurisdiction`).
 * - KV: every get/getWithMetadata/put/delete/list. Cache API (a global, so attributed through AsyncLocalStorage):
 *   every match/put/delete; a match that returns a response is a hit.
 * The first metered request taps the D1 transport and the Cache API for the isolate's life; calls outside a metered
 * request pass straight through.
 */
import { COST_REQUEST_HEADER } from "./headers";
import { type CostMeter, type Counter, type D1Meta, type Target, currentMeter } from "./meter";

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

function d1Target(route: D1Route, reads: boolean): Target {
  const session = route.session;
  if (!session) return "region";
  const first = !session.used;
  session.used = true;
  return reads && !(first && session.firstPrimary) ? "here" : "region";
}

const metaOf = (result: unknown): D1Meta[] =>
  ([result].flat() as Array<{ meta?: D1Meta } | null>).flatMap((r) => (r && typeof r === "object" && r.meta ? [r.meta] : []));

function meteredD1<T>(meter: CostMeter, route: D1Route, sqls: string[], resultHasMeta: boolean, call: () => Promise<T>): Promise<T> {
  const target = d1Target(route, sqls.every(isRead));
  meter.counts.d1++;
  if (target === "here") meter.counts.d1_replica++;
  return meter.track(`D1 ${sqls.join("; ").replace(/\s+/g, " ").slice(0, 120)}`, target, () => {
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
        return meter.track(`DO ${prop}`, "region", () => Reflect.apply(value, target, args) as PromiseLike<unknown>);
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

const KV_OPS: Record<string, [Target, Counter]> = {
  get: ["here", "kv_reads"],
  getWithMetadata: ["here", "kv_reads"],
  put: ["central", "kv_writes"],
  delete: ["central", "kv_deletes"],
  list: ["central", "kv_lists"],
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
      const meter = currentMeter();
      if (!meter) return Reflect.apply(original, this, args);
      meter.counts.cache++;
      return meter.track(`cache ${name}`, "here", () => Reflect.apply(original, this, args) as Promise<unknown>, (result) => {
        if (name === "match" && result) meter.counts.cache_hits++;
      });
    };
  }
}

// ---- the hop to the data side ----

/** Service bindings whose `fetch` crosses from the edge to the data region (src/placement/hop.ts). */
const HOP_BINDINGS = new Set<PropertyKey>(["DATA"]);

function meterHop<F extends object>(service: F, meter: CostMeter): F {
  return new Proxy(service, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop !== "fetch" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
      return (input: RequestInfo | URL, init?: RequestInit) => {
        // The forwarded write asks the data side for its share of the cost (X-Cost-Report), which comes back in
        // the response's X-Cost and joins this side's (report.ts).
        const request = new Request(input, init);
        request.headers.set(COST_REQUEST_HEADER, "1");
        return meter.track("hop to the data side", "hop", () => Reflect.apply(value, target, [request]) as Promise<unknown>);
      };
    },
  });
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

/** `env` whose D1, Durable Object, KV and hop bindings count every call into `meter` (other bindings pass through). */
export function instrumentEnv<E extends object>(env: E, meter: CostMeter): E {
  tapCacheApi();
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(env, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (value === null || typeof value !== "object") return value;
      if (!wrapped.has(prop)) {
        const kind = HOP_BINDINGS.has(prop) ? "hop" : bindingKind(value);
        let metered: unknown = value;
        if (kind === "hop") metered = meterHop(value, meter);
        else if (kind === "d1") {
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

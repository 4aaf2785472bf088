/**
 * Crash points, injected through the bindings (a wrapped `env`), never through hooks in production code.
 *
 * A `Faults` counts every I/O call a flow makes through the env it wraps: each D1 statement or batch (on the database
 * or a Sessions API session), each Durable Object RPC, and each outbound `fetch` (Razorpay). With a
 * plan, the k-th call is where the Worker dies:
 * - `before`: the call never reaches storage;
 * - `after`: the call takes effect, but its answer is lost (a D1 batch that committed, a refund Razorpay made);
 * and from then on every call fails, as nothing a dead Worker does reaches anything. Running a flow for k = 1, 2, ...
 * until it completes with no fault left stops it at every I/O boundary in turn.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import app from "../src/index";

/**
 * `before`/`after`: the Worker dies at that call (before it acts, or after it acted with its answer lost) and every
 * later call fails. `fail`/`lose`: only that call fails (without acting, or after acting), the Worker lives on and
 * runs its own error handling: a transient platform error rather than a death.
 */
export type CrashMode = "before" | "after" | "fail" | "lose";

export class WorkerDied extends Error {
  constructor(at: string) {
    super(`injected crash at ${at}`);
  }
}

/** One I/O call as the flow made it: its label, and for D1 the statements' SQL and bound values. */
export interface IoCall {
  label: string;
  sql: string[];
  params: unknown[][];
}

export interface FaultPlan {
  /** The number of the call to fault at, or the first call this matches. */
  at?: number | ((call: IoCall) => boolean);
  mode?: CrashMode;
  /** Runs before each call reaches its binding: what happens meanwhile elsewhere (another request, an alarm). */
  meanwhile?: (call: IoCall) => Promise<void> | void;
}

export class Faults {
  calls = 0;
  dead = false;
  faulted = false;
  readonly trace: string[] = [];
  constructor(readonly plan: FaultPlan = {}) {}

  /** Runs one I/O call of the flow, or faults as planned. */
  async io<T>(call: IoCall | string, run: () => Promise<T>): Promise<T> {
    const c = typeof call === "string" ? { label: call, sql: [], params: [] } : call;
    if (this.dead) throw new WorkerDied(`${c.label} (after death)`);
    // Numbered before the await: calls of one concurrent wave (commits on several shards) each keep their own number.
    const n = ++this.calls;
    this.trace.push(c.label);
    await this.plan.meanwhile?.(c);
    const { at, mode = "before" } = this.plan;
    if (!this.faulted && at !== undefined && (typeof at === "number" ? at === n : at(c))) {
      this.faulted = true;
      if (mode === "before" || mode === "after") this.dead = true;
      if (mode === "after" || mode === "lose") await run().catch(() => undefined);
      throw mode === "fail" || mode === "lose" ? new Error(`D1_ERROR: Network connection lost (injected at ${c.label})`) : new WorkerDied(c.label);
    }
    return run();
  }
}

type AnyFn = (...args: unknown[]) => unknown;

const STATEMENT = Symbol("statement");
interface StatementInfo {
  real: D1PreparedStatement;
  sql: string;
  params: unknown[];
}
const infoOf = (s: D1PreparedStatement) => (s as unknown as Record<symbol, StatementInfo | undefined>)[STATEMENT];

function wrapStatement(faults: Faults, statement: D1PreparedStatement, sql: string, params: unknown[] = []): D1PreparedStatement {
  const call = { label: `D1 ${sql.replace(/\s+/g, " ").slice(0, 60)}`, sql: [sql], params: [params] };
  return new Proxy(statement, {
    get(target, prop) {
      if (prop === STATEMENT) return { real: target, sql, params } satisfies StatementInfo;
      if (prop === "bind") return (...values: unknown[]) => wrapStatement(faults, target.bind(...values), sql, values);
      if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
        return (...args: unknown[]) => faults.io(call, () => (target[prop] as AnyFn).apply(target, args) as Promise<unknown>);
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function wrapD1<T extends D1Database | D1DatabaseSession>(faults: Faults, d1: T): T {
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrapStatement(faults, target.prepare(sql), sql);
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          const infos = statements.map((s) => infoOf(s) ?? { real: s, sql: "?", params: [] });
          const call = { label: `D1 batch(${statements.length}) ${infos[0]?.sql.replace(/\s+/g, " ").slice(0, 50)}`, sql: infos.map((i) => i.sql), params: infos.map((i) => i.params) };
          return faults.io(call, () => target.batch(infos.map((i) => i.real)));
        };
      }
      if (prop === "exec") return (sql: string) => faults.io("D1 exec", () => (target as D1Database).exec(sql));
      if (prop === "withSession") return (constraint?: string) => wrapD1(faults, (target as D1Database).withSession(constraint as D1SessionConstraint));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function wrapStub(faults: Faults, stub: object, name: string): object {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof prop !== "string" || prop === "then" || typeof value !== "function") return value;
      if (prop === "fetch" || !["id", "name"].includes(prop)) {
        // called on the stub itself: an RPC method is not a plain function (no .apply)
        return (...args: unknown[]) => faults.io(`DO ${name}.${prop}`, () => (target as Record<string, AnyFn>)[prop](...args) as Promise<unknown>);
      }
      return value;
    },
  });
}

function wrapNamespace<N extends object>(faults: Faults, ns: N, label: string): N {
  return new Proxy(ns, {
    get(target, prop) {
      const namespace = target as unknown as DurableObjectNamespace;
      if (prop === "getByName") return (name: string, opts?: unknown) => wrapStub(faults, namespace.getByName(name, opts as never), `${label}(${name})`);
      if (prop === "get") return (id: DurableObjectId, opts?: unknown) => wrapStub(faults, namespace.get(id, opts as never), `${label}(${id})`);
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The test env with every storage binding counted (and, with a plan, dying) through `faults`. */
export function faultyEnv(faults: Faults, base: Env = env): Env {
  return {
    ...base,
    // No hop to the data side (which would run with the real bindings): the write runs here, through the faults.
    DATA: undefined,
    DB: wrapD1(faults, base.DB),
    INVENTORY: wrapNamespace(faults, base.INVENTORY, "INVENTORY"),
    LOGIN_GUARD: wrapNamespace(faults, base.LOGIN_GUARD, "LOGIN_GUARD"),
  };
}

/**
 * One request through the Worker with faulty bindings, background work (waitUntil) included. A crash is not an
 * answer: the response of a Worker that died is whatever it managed, and tests only look at the storage it left.
 */
export async function sendWith(
  bindings: Env,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers["Content-Type"] ??= "application/json";
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://shop.test${path}`, { method, headers, body }), bindings, ctx);
  await waitOnExecutionContext(ctx).catch(() => undefined);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

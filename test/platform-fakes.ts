/**
 * Production failures that local workerd does not produce, injected by wrapping a binding. Each wrapper throws
 * what production throws, so the app is tested against the real platform's behaviour, not a parameter of ours.
 */
import { env } from "cloudflare:test";

/** The real bindings with some replaced. */
// Without DATA: a write runs here, with the wrapped bindings, instead of crossing to the data side (which has the
// real ones). The hop itself is tested in placement.test.ts.
export const envWith = (overrides: Partial<Env>): Env => ({ ...env, DATA: undefined, ...overrides });

/**
 * D1 whose statements matching `failing` fail as production's do when a statement errors: the error text carries
 * the statement and its bound values (emails, password hashes...), so whatever logs it whole leaks them.
 */
export function d1FailingStatements(db: D1Database, failing: (sql: string) => boolean): D1Database {
  const failingStatement = (sql: string, params: unknown[]): D1PreparedStatement => {
    const fail = async (): Promise<never> => {
      throw new Error(`D1_ERROR: disk I/O error: SQLITE_IOERR while running ${sql} with params ${JSON.stringify(params)}`);
    };
    return { bind: (...values: unknown[]) => failingStatement(sql, values), first: fail, all: fail, run: fail, raw: fail } as unknown as D1PreparedStatement;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => (failing(sql) ? failingStatement(sql, []) : target.prepare(sql));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The error production KV throws for a second write to one key within a second. */
export const KV_RATE_LIMITED = "KV PUT failed: 429 Too Many Requests";

/**
 * KV with production's write limit: one write (put or delete) per key per `windowMs` (1 s in production); a write
 * inside the window of the last accepted one is rejected and changes nothing. `writes` counts accepted writes.
 */
export function kvOneWritePerSecond(kv: KVNamespace, windowMs = 1000) {
  const lastWrite = new Map<string, number>();
  const stats = { accepted: 0, rejected: 0 };
  const guarded =
    <A extends unknown[], R>(write: (key: string, ...rest: A) => Promise<R>) =>
    async (key: string, ...rest: A): Promise<R> => {
      const now = Date.now();
      if (now - (lastWrite.get(key) ?? -Infinity) < windowMs) {
        stats.rejected++;
        throw new Error(KV_RATE_LIMITED);
      }
      lastWrite.set(key, now);
      stats.accepted++;
      return write(key, ...rest);
    };
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      if (prop === "put") return guarded((key, ...rest: unknown[]) => (target.put as (...a: unknown[]) => Promise<void>)(key, ...rest));
      if (prop === "delete") return guarded((key) => target.delete(key));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: wrapped, stats };
}

/** KV that does not return keys written elsewhere yet (eventual consistency: another location's cache says "none"). */
export function kvNotYetVisible(kv: KVNamespace, hidden: Set<string>): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "get") {
        return (key: string, ...rest: unknown[]) =>
          hidden.has(key) ? Promise.resolve(null) : (target.get as (...a: unknown[]) => Promise<unknown>)(key, ...rest);
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

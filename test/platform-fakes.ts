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

/**
 * D1 seen from a location whose read replica has not caught up yet: a read through a Sessions API session (which
 * may be served by a replica; not "first-primary" ones) finds nothing, as if nothing had been written; the primary
 * and writes are unchanged.
 */
export function replicasBehind(db: D1Database): D1Database {
  const nothingYet = (statement: D1PreparedStatement): D1PreparedStatement =>
    ({
      bind: (...values: unknown[]) => nothingYet(statement.bind(...values)),
      first: async () => null,
      all: async () => ({ results: [], success: true, meta: {} }),
      raw: async () => [],
      run: () => statement.run(),
    }) as unknown as D1PreparedStatement;
  const behind = (session: D1DatabaseSession): D1DatabaseSession =>
    new Proxy(session, {
      get(target, prop) {
        if (prop === "prepare") return (sql: string) => (/^\s*select/i.test(sql) ? nothingYet(target.prepare(sql)) : target.prepare(sql));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "withSession") {
        return (constraint?: string) => (constraint === "first-primary" ? target.withSession(constraint) : behind(target.withSession(constraint)));
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

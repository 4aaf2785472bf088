/**
 * Error logs that never carry bound values. A failing D1 statement's error text includes its parameters (Drizzle's
 * `Failed query: ... params: ...`, and production D1's own text), and those are password hashes, emails and
 * addresses. So a log line keeps a statement name, the innermost error's message with every bound value and
 * anything shaped like an email or a hash blanked out, and the stack frames without the message they start with.
 */

export interface ErrorSummary {
  /** `insert users`, `update sessions`, ...: which statement failed, never its SQL text or values. */
  statement?: string;
  error: string;
  frames?: string;
}

const MAX_MESSAGE = 300;
const EMAIL = /[^\s'"(),;:<>[\]{}]+@[^\s'"(),;:<>[\]{}]+/g;
/** Password hashes, tokens, keys: long runs of base64/hex-like characters with digits (SQLite's names have none). */
const TOKEN = /[A-Za-z0-9+/=_$.-]{20,}/g;
const blankSecretLike = (token: string) => (/\d/.test(token) && /[a-z]/i.test(token) ? "?" : token);

/** Names a statement from Drizzle's SQL (`insert into "users" ...` -> `insert users`). */
function statementName(query: string): string | undefined {
  const verb = /^\s*(insert|update|delete|select|with)\b/i.exec(query)?.[1]?.toLowerCase();
  if (!verb) return undefined;
  const table = /^\s*(?:insert\s+into|update|delete\s+from)\s+"?(\w+)/i.exec(query)?.[1] ?? /\bfrom\s+"?(\w+)/i.exec(query)?.[1];
  return table ? `${verb} ${table}` : verb;
}

const isQueryError = (e: unknown): e is Error & { query: string; params: unknown[] } =>
  e instanceof Error && typeof (e as { query?: unknown }).query === "string" && Array.isArray((e as { params?: unknown }).params);

/** What may be logged about an error: see the header. */
export function summarizeError(err: unknown): ErrorSummary {
  const chain: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && chain.length < 10; e = (e as { cause?: unknown }).cause) {
    chain.push(e);
    if (!(e instanceof Error)) break;
  }
  const queryError = chain.find(isQueryError);
  const root = chain[chain.length - 1];
  // Drizzle's own message is the SQL and its values; the cause below it is the database's message.
  let message = root === queryError ? "query failed" : root instanceof Error ? `${root.name}: ${root.message}` : String(root);
  const values = (queryError?.params ?? []).map(String).filter((v) => v.length >= 3);
  for (const value of values.sort((a, b) => b.length - a.length)) message = message.split(value).join("?");
  message = message.replace(EMAIL, "?").replace(TOKEN, blankSecretLike).slice(0, MAX_MESSAGE);
  const frames = root instanceof Error ? root.stack?.split("\n").filter((line) => /^\s+at /.test(line)).slice(0, 8).join("\n") : undefined;
  return { statement: queryError ? statementName(queryError.query) : undefined, error: message, frames: frames || undefined };
}

/** Logs one JSON line at level error: `msg`, the caller's `fields` (ids, never personal data), and the error's summary. */
export function logError(msg: string, err: unknown, fields: Record<string, unknown> = {}): void {
  console.error(JSON.stringify({ level: "error", msg, ...fields, ...summarizeError(err) }));
}

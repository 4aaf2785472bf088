import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** JSON bodies the contract uses for errors: DRF field errors, `{error}` or `{detail}`. */
export type ErrorBody = Record<string, unknown>;

/**
 * The one error type of the API. Thrown from anywhere; `app.onError` renders `body` as JSON with `status`.
 */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly body: ErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message: JSON.stringify(body) });
  }
}

/** 400 `{"field": ["message"]}` — DRF's validation shape. */
export const fieldError = (field: string, message: string) => new ApiError(400, { [field]: [message] });

/** `{"error": "message"}` — the shape cart, orders and payments use. */
export const errorMessage = (status: ContentfulStatusCode, message: string) => new ApiError(status, { error: message });

/** `{"detail": "message"}` — DRF's shape for auth, permission and lookup errors. */
export const detail = (status: ContentfulStatusCode, message: string, extra: ErrorBody = {}) =>
  new ApiError(status, { detail: message, ...extra });

export const notFound = () => detail(404, "Not found.");
export const notAuthenticated = () =>
  new ApiError(401, { detail: "Authentication credentials were not provided." }, { "WWW-Authenticate": 'Bearer realm="api"' });
export const invalidToken = () =>
  new ApiError(
    401,
    { detail: "Given token not valid for any token type", code: "token_not_valid" },
    { "WWW-Authenticate": 'Bearer realm="api"' },
  );
export const forbidden = () => detail(403, "You do not have permission to perform this action.");

/**
 * True when a D1 error is a UNIQUE constraint violation, optionally of one index or `table.column`. Only SQLite's
 * own message is searched: the query text that Drizzle adds to its error names every column.
 */
export function isUniqueViolation(err: unknown, indexOrColumn?: string): boolean {
  const match = /UNIQUE constraint failed: ([^\n]*)/.exec(errorText(err));
  return !!match && (!indexOrColumn || match[1].includes(indexOrColumn));
}

/** True when a D1 error is a NOT NULL violation of `table.column` (how a guarded batch aborts itself). */
export function isNotNullViolation(err: unknown, column: string): boolean {
  return errorText(err).includes(`NOT NULL constraint failed: ${column}`);
}

/** True when a D1 error is a foreign key violation (e.g. deleting a product that orders reference). */
export function isForeignKeyViolation(err: unknown): boolean {
  return errorText(err).includes("FOREIGN KEY constraint failed");
}

function errorText(err: unknown): string {
  let text = "";
  for (let e: unknown = err; e instanceof Error; e = e.cause) text += ` ${e.message}`;
  return text;
}

import { OpenAPIHono, type RouteConfig, type RouteHandler, z } from "@hono/zod-openapi";
import type { Context, ValidationTargets } from "hono";
import type { AppEnv } from "../env";
import { ApiError, notFound } from "./errors";

/**
 * DRF-style messages for the zod issues clients meet most, so a field error reads like the original's.
 * Everything else keeps zod's own message.
 */
z.config({
  customError: (issue) => {
    if (issue.input === undefined) return "This field is required.";
    if (issue.input === null && issue.code === "invalid_type") return "This field may not be null.";
    if (issue.code === "invalid_type" && issue.expected === "int") return "A valid integer is required.";
    if (issue.code === "invalid_type" && issue.expected === "number") return "A valid number is required.";
    if (issue.code === "invalid_type" && issue.expected === "boolean") return "Must be a valid boolean.";
    if (issue.code === "invalid_type" && issue.expected === "string") return "Not a valid string.";
    if (issue.code === "too_big" && issue.origin === "string")
      return `Ensure this field has no more than ${issue.maximum} characters.`;
    if (issue.code === "too_small" && issue.origin === "string" && issue.minimum === 1) return "This field may not be blank.";
    return undefined;
  },
});

/** Turns zod issues into DRF's `{"field": ["message"]}`; issues with no path go under `non_field_errors`. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): Record<string, string[]> {
  // No prototype: a field named like "valueOf" or "__proto__" must be a plain key, not Object.prototype's member.
  const out: Record<string, string[]> = Object.create(null);
  const add = (field: string, message: string) => (out[field] ??= []).push(message);
  for (const issue of issues) add(issue.path.map(String).join(".") || "non_field_errors", issue.message);
  return out;
}

type ValidationResult = { target: keyof ValidationTargets; data?: unknown } & (
  | { success: true }
  | { success: false; error: z.ZodError }
);

/** The one validation hook: a bad path id is 404, anything else 400 with DRF's field errors. */
function rejectInvalid(result: ValidationResult): undefined {
  if (result.success) return undefined;
  // A path id of the wrong type is an unknown resource, as in the original (`/api/products/abc/` -> 404).
  if (result.target === "param") throw notFound();
  throw new ApiError(400, fieldErrors(result.error.issues));
}

/**
 * Every feature router comes from here, so all validate and report errors the same way. Each route it registers is
 * documented with the responses its kind of route can always answer (see `documented`), so no route forgets them.
 */
export function createRouter() {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: rejectInvalid });
  const register = router.openapi;
  router.openapi = ((route, handler, hook) =>
    register({ ...route, ...documented(route) }, handler, hook)) as typeof register;
  return router;
}

/** Field errors found by checks zod cannot run (a taken username needs D1); empty when every field passes. */
export type FieldErrors = Record<string, string[]>;

/**
 * The validation hook of a JSON body whose fields also have checks that need the database. DRF runs every field's
 * validators before it answers, so a 400 names every failing field at once: when the body fails its schema, the
 * checks still run on the fields that passed it, and their errors join zod's. (When the schema passes, the handler's
 * service runs the same checks.) Pass it as the third argument of `router.openapi(route, handler, hook)`.
 */
export function withFieldChecks<S extends z.ZodObject>(
  schema: S,
  check: (c: Context<AppEnv>, fields: Partial<z.output<S>>) => Promise<FieldErrors>,
) {
  // Promise<never> because it always throws; a hook that could resolve to undefined would not fit the route's type.
  const rejectAll = async (result: ValidationResult & { success: false }, c: Context<AppEnv>): Promise<never> => {
    const errors = fieldErrors(result.error.issues);
    const failed = new Set(result.error.issues.map((issue) => issue.path[0]));
    const body = result.data;
    if (typeof body === "object" && body !== null && !Array.isArray(body)) {
      const wellFormed: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
        if (!Object.hasOwn(body, key) || failed.has(key)) continue;
        const parsed = field.safeParse((body as Record<string, unknown>)[key]);
        if (parsed.success) wellFormed[key] = parsed.data;
      }
      for (const [field, messages] of Object.entries(await check(c, wellFormed as Partial<z.output<S>>))) {
        (errors[field] ??= []).push(...messages);
      }
    }
    throw new ApiError(400, errors);
  };
  return (result: ValidationResult, c: Context<AppEnv>) =>
    result.success || result.target !== "json" ? rejectInvalid(result) : rejectAll(result, c);
}

/** Throws DRF's 400 when any field failed. */
export function assertNoFieldErrors(errors: FieldErrors): void {
  if (Object.keys(errors).length) throw new ApiError(400, errors);
}

/** Only decimal digits make an id, as Django's `<int:pk>` path converter reads one. */
const DIGITS = /^\d+$/;

/**
 * Path parameter `{id}`: a positive integer written in decimal digits. `Number()` alone also reads `0x10`, `1e1`,
 * `+2`, `2.0` and ` 2` as ids, so every resource had several URLs (each one its own cache entry).
 */
export const IdParam = z.object({
  id: z
    .preprocess((value) => (typeof value === "string" && !DIGITS.test(value) ? Number.NaN : value), z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER))
    .openapi({ param: { name: "id", in: "path" }, type: "integer", minimum: 1, example: 1 }),
});

/**
 * The three error shapes the API answers, as DRF does. Each route documents, per status, the shapes it can answer
 * (issue 29: a client can rely on an error's shape), so the document no longer says "any object".
 */
const DetailError = z
  .strictObject({
    detail: z.string(),
    code: z.string().optional().openapi({ description: "Machine-readable reason, e.g. `token_not_valid`, `throttled`" }),
  })
  .openapi("DetailError", { description: 'DRF\'s `{"detail": "message"}`: authentication, permission, lookup, malformed request', example: { detail: "Not found." } });
const MessageError = z
  .strictObject({ error: z.string() })
  .openapi("MessageError", { description: 'A business rule refused the request: `{"error": "message"}`', example: { error: "Cart is empty" } });
const FieldErrors = z
  .record(z.string(), z.array(z.string()))
  .openapi("FieldErrors", {
    description: 'DRF validation errors: `{"field": ["message", ...]}`; a rule across fields is under `non_field_errors`',
    example: { price: ["Price must be greater than 0"] },
  });

const SHAPES = { detail: DetailError, error: MessageError, fields: FieldErrors } as const;
/** `detail`: `{"detail": "..."}`; `error`: `{"error": "..."}`; `fields`: `{"field": ["..."]}`. */
export type ErrorShape = keyof typeof SHAPES;

/** The shapes each documented error response answers, so `documented` can merge a route's own with the implied ones. */
const shapesOf = new WeakMap<object, readonly ErrorShape[]>();

function errorResponse(description: string, ...shapes: ErrorShape[]) {
  const [first, ...rest] = shapes.map((shape) => SHAPES[shape]);
  const schema = rest.length ? z.union([first, ...rest]) : first;
  const response = { description, content: { "application/json": { schema } } };
  shapesOf.set(response, shapes);
  return response;
}

const RetryAfterHeader = z.object({
  "Retry-After": z.string().openapi({ description: "Seconds to wait before trying again", example: "900" }),
});

/**
 * The documented failures of the API, one description and the usual shape each. Routes spread the ones they can
 * answer: `responses: { 200: json(...), ...errors(400, 401, 404) }`; a route whose failure has another shape says
 * so with `failure` (e.g. `400: failure(400, "fields", "error")`).
 */
export const errorResponses = {
  400: errorResponse("Invalid input; the body names each field", "fields"),
  401: errorResponse("Missing, invalid, expired or revoked token (a token sent to a public route is checked too), or wrong credentials", "detail"),
  403: errorResponse("Authenticated, but not allowed (admin only)", "detail"),
  404: errorResponse("Not found", "detail"),
  409: errorResponse("Conflict: a request with the same Idempotency-Key is still running, or the resource changed meanwhile; retry", "error"),
  412: errorResponse("If-Match named an older version: nothing was changed; reload and retry", "detail"),
  413: errorResponse("Request body too large (64 KB; 1 MB for the Razorpay webhook)", "detail"),
  415: errorResponse("The request body must be JSON (`Content-Type: application/json`)", "detail"),
  422: errorResponse("The Idempotency-Key was used with a different request", "error"),
  429: { ...errorResponse("Too many requests; try again after `Retry-After` seconds", "detail"), headers: RetryAfterHeader },
  502: errorResponse("The payment gateway failed or timed out", "error"),
  503: errorResponse("Temporary failure, or a service that is not configured; nothing was changed, retry later", "error"),
} as const;
shapesOf.set(errorResponses[429], ["detail"]);

export type ErrorStatus = keyof typeof errorResponses;

/** The shared documented responses for these statuses, to spread into a route's `responses`. */
export function errors<const S extends ErrorStatus>(...statuses: S[]): Pick<typeof errorResponses, S> {
  return Object.fromEntries(statuses.map((status) => [status, errorResponses[status]])) as Pick<typeof errorResponses, S>;
}

/** A route's failure at `status` with the shapes it answers there, when they are not (only) the usual one. */
export function failure(status: ErrorStatus, ...shapes: [ErrorShape, ...ErrorShape[]]) {
  const usual = errorResponses[status];
  const response = errorResponse(usual.description, ...shapes);
  if (!("headers" in usual)) return response;
  const withHeaders = { ...response, headers: usual.headers };
  shapesOf.set(withHeaders, shapes);
  return withHeaders;
}

/** The payment gateway failures of routes that call Razorpay. */
export const gatewayResponses = {
  502: errorResponses[502],
  503: errorResponse("Payments are not configured", "error"),
} as const;

const ETagHeader = z.object({
  ETag: z.string().openapi({ description: "The representation's current ETag, for `If-None-Match` (and `If-Match` where a write takes it)" }),
});
const notModifiedResponse = { description: "Not modified: the `If-None-Match` ETag still matches; no body", headers: ETagHeader };
const IfNoneMatchHeaders = z.object({
  "if-none-match": z.string().optional().openapi({ description: "ETag of a copy the client has: 304 while it is current", example: '"3f2a..."' }),
});

const answersNotModified = new WeakSet<object>();

/** Marks a middleware (e.g. hono's `etag()`) that answers 304; every route using it documents 304. */
export function conditionalGet<M extends object>(middleware: M): M {
  answersNotModified.add(middleware);
  return middleware;
}

/**
 * A route's own responses plus those it answers because of what it is rather than what it does: a path id that is
 * not one answers 404 (see `createRouter`); a query parameter outside its schema answers 400; any request body may be too large (413); a body the validator parses may
 * be malformed (400) or not JSON at all (415); a route whose middleware answers conditional GETs takes
 * `If-None-Match`, can answer 304, and its 200 carries an ETag.
 */
function documented(route: RouteConfig): Pick<RouteConfig, "request" | "responses"> {
  const implied: RouteConfig["responses"] = {};
  if (route.request?.params) implied[404] = errorResponses[404];
  // The validator refuses a query parameter outside its documented schema (e.g. `page_size=101`) with a 400.
  if (route.request?.query) implied[400] = errorResponses[400];
  const body = route.request?.body?.content;
  if (body) {
    implied[413] = errorResponses[413];
    if (Object.values(body).some((media) => !!media && "schema" in media && media.schema instanceof z.ZodType)) {
      // Field errors from the schema, or DRF's `{"detail": "JSON parse error - ..."}` for a body that is not JSON.
      Object.assign(implied, { 400: errorResponse(errorResponses[400].description, "fields", "detail") }, errors(415));
    }
  }
  const middleware = [route.middleware ?? []].flat(2) as object[];
  const responses = { ...implied, ...route.responses };
  // A status both implied and declared answers the shapes of both (a route's `{"error"}` 400 and the validator's).
  for (const [status, response] of Object.entries(implied)) {
    const declared = route.responses[status];
    const shapes = [...(shapesOf.get(response) ?? []), ...(shapesOf.get(declared) ?? [])];
    if (declared === response || !shapesOf.has(declared) || !shapesOf.has(response) || !("description" in declared)) continue;
    const merged = errorResponse(declared.description ?? "", ...new Set(shapes));
    responses[status] = "headers" in declared ? { ...merged, headers: declared.headers } : merged;
  }
  if (!middleware.some((m) => answersNotModified.has(m))) return { request: route.request, responses };
  responses[304] = notModifiedResponse;
  if (responses[200]) responses[200] = { ...responses[200], headers: ETagHeader };
  const headers = route.request?.headers;
  if (headers && !(headers instanceof z.ZodObject)) return { request: route.request, responses };
  return { request: { ...route.request, headers: headers ? headers.extend(IfNoneMatchHeaders.shape) : IfNoneMatchHeaders }, responses };
}

/**
 * Marks a response field `readOnly` in the OpenAPI document: the server sets it, and a client that sends it back
 * (PUT of the object it got) has it ignored.
 */
export const readOnly = <T extends z.ZodType>(schema: T): T => schema.openapi({ readOnly: true });

/** `content` of a JSON request or response body. */
export const json = <T extends z.ZodType>(schema: T, description = "") => ({
  description,
  content: { "application/json": { schema } },
});

/** A required JSON request body. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

type Security = NonNullable<RouteConfig["security"]>;
/** Routes that need a token. */
export const bearerSecurity: Security = [{ Bearer: [] }];
/** Public routes (an invalid token is still refused with 401 on /api routes, as the original does). */
export const publicSecurity: Security = [];
/** Public routes whose answer depends on who asks (e.g. admins also see inactive products). */
export const optionalBearerSecurity: Security = [{}, { Bearer: [] }];

/** A handler typed against its route: `c.req.valid(...)` and `c.json(body, status)` are checked. */
export type Handler<R extends RouteConfig> = RouteHandler<R, AppEnv>;

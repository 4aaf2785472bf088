/**
 * Where each request runs (issue 24). Reads stay at the edge, next to the shopper (read replicas, the edge cache).
 * Writes, which make several calls to the D1 primary or the objects, run next to them: the edge forwards such a request,
 * unchanged, to the data Worker (`DATA`, a service binding whose target has `[placement]` next to the D1 primary) in
 * one call, and returns its response, unchanged: same status, same body, same headers. The forwarded request is
 * the client's own, so its identity travels with it (Authorization, Idempotency-Key, X-Cart-Id, CF-Connecting-IP).
 *
 * Placement applies to a Worker's fetch handler, not to RPC methods or named entrypoints (Cloudflare's placement
 * docs), so the hop is `DATA.fetch()` into the data Worker's default fetch handler. The data Worker is this same code
 * without a `DATA` binding, so it runs everything itself.
 *
 * The edge marks a forwarded request with a token only our Workers can make (an HMAC of JWT_SECRET): a request that
 * carries it crossed the hop, runs where it arrives and is never forwarded again (which also lets one Worker be its
 * own data side, as in the tests). A client cannot make one, so a client's header is replaced, never trusted.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { hmacSha256Hex, timingSafeEqual } from "../lib/crypto";
import { logError } from "../lib/log";
import { noStoreByDefault } from "../middleware/no-store";
import { responseHeaders } from "../middleware/response-headers";

/** Carries the hop token on a request the edge forwarded. */
export const HOP_HEADER = "X-Data-Hop";
const COST_ASK = "X-Cost-Report";

const tokens = new Map<string, Promise<string>>();
/** The hop token: the same for every request of a deployment, so it is made once per isolate. */
export function hopToken(env: { JWT_SECRET: string }): Promise<string> {
  let token = tokens.get(env.JWT_SECRET);
  if (!token) tokens.set(env.JWT_SECRET, (token = hmacSha256Hex(env.JWT_SECRET, "edge-to-data-hop")));
  return token;
}

/** True for a request our edge forwarded (checked in constant time). */
export async function crossedHop(request: Request, env: { JWT_SECRET: string }): Promise<boolean> {
  const sent = request.headers.get(HOP_HEADER);
  if (!sent) return false;
  const encoder = new TextEncoder();
  return timingSafeEqual(encoder.encode(sent), encoder.encode(await hopToken(env)));
}

/**
 * The rule: a write (any method but GET, HEAD and OPTIONS, under /api/) runs next to the data, unless it makes one
 * call to the D1 primary or an object at most, which no hop (150 ms) plus short calls could beat. Measured with the
 * cost meter in test/placement.test.ts, which walks every write in the OpenAPI document: the forwarded ones must be
 * no slower than at the edge, the ones left here must make one call at most. Today that leaves one: token refresh.
 */
const EDGE_WRITES: ReadonlyArray<[method: string, path: RegExp]> = [["POST", /^\/api\/auth\/token\/refresh\/$/]];
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

export function runsOnDataSide(request: Request): boolean {
  if (READS.has(request.method)) return false;
  const path = new URL(request.url).pathname;
  return path.startsWith("/api/") && !EDGE_WRITES.some(([method, pattern]) => method === request.method && pattern.test(path));
}

type Handler<E> = (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>;

/** The edge's fetch entry: a data-side write goes to `DATA` in one call, everything else to `handler` here. */
export function forwardWrites<E extends { DATA?: Fetcher; JWT_SECRET: string }>(handler: Handler<E>): Handler<E> {
  return async (request, env, ctx) => {
    if (!env.DATA || !runsOnDataSide(request) || (await crossedHop(request, env))) return handler(request, env, ctx);
    const hop = new Request(request);
    hop.headers.set(HOP_HEADER, await hopToken(env));
    // The data side reports its cost only to an edge that meters this request (its DATA binding asks again).
    hop.headers.delete(COST_ASK);
    return env.DATA.fetch(hop).catch((err: unknown) => hopFailed.fetch(new Request(request.url, { method: request.method, headers: request.headers }), { ...env, hopError: err }));
  };
}

/**
 * The hop itself failed (the data Worker could not be reached, or died without answering). The write may or may not
 * have happened there, so this is the app's own answer to an unknown error (500, the same body and the same headers:
 * request id, security headers, CORS, no-store), never a retry here: the client's retry carries its Idempotency-Key
 * and cart, which make a repeated write a replay, not a second one.
 */
const hopFailed = new Hono<AppEnv & { Bindings: { hopError: unknown } }>()
  .use("*", ...responseHeaders, noStoreByDefault)
  .all("*", (c) => {
    logError("hop to the data side failed", c.env.hopError, { requestId: c.get("requestId"), path: c.req.path });
    return c.json({ detail: "Internal server error.", request_id: c.get("requestId") }, 500);
  });

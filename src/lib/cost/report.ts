/**
 * The cost meter of issue 14: what one request costs in I/O, counted, not guessed. Off unless the Worker runs with
 * the var `INSTRUMENT=1` and the request asks with `X-Cost-Report: 1`; the response then carries
 * `X-Cost: rt=2;model_ms=320;d1=2;d1_replica=0;rows_read=51;...`. When off, the fetch entry compares one string and
 * calls the app exactly as before: no wrapper, no proxy, no patched prototype. The step model is in ./meter.ts, the
 * wrapped bindings in ./bindings.ts.
 * Never set INSTRUMENT in production: the header describes the backend to anyone who asks.
 */
import { crossedHop } from "../../placement/hop";
import { instrumentEnv } from "./bindings";
import { COST_HEADER, COST_REQUEST_HEADER } from "./headers";
import { type CostReport, CostMeter } from "./meter";

export { COST_HEADER, COST_REQUEST_HEADER } from "./headers";

export const formatCost = (report: CostReport): string =>
  Object.entries(report)
    .map(([key, value]) => `${key}=${value}`)
    .join(";");

/** `rt=2;model_ms=175;d1=1;...` -> { rt: 2, model_ms: 175, d1: 1, ... }; null when absent or malformed. */
export function parseCost(header: string | null): CostReport | null {
  if (!header) return null;
  const pairs = header.split(";").map((pair) => pair.split("="));
  if (pairs.some(([key, value]) => !key || !/^\d+$/.test(value ?? ""))) return null;
  return Object.fromEntries(pairs.map(([key, value]) => [key, Number(value)])) as unknown as CostReport;
}

/**
 * Runs one request through `handler` with a fresh meter; the cost is fixed when the response is returned. A request
 * that crossed the hop is metered as the data side's; a response that comes back across the hop brings the data
 * side's cost in its own `X-Cost` header, which joins this side's (and leaves the response).
 */
export async function meterRequest<E extends object>(
  handler: (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>,
  request: Request,
  env: E,
  ctx: ExecutionContext,
): Promise<{ response: Response; cost: CostReport; meter: CostMeter }> {
  const meter = new CostMeter((await crossedHop(request, env as unknown as Env)) ? "data" : "edge");
  let response = await meter.run(() => handler(request, instrumentEnv(env, meter), meter.context(ctx)));
  const remote = parseCost(response.headers.get(COST_HEADER));
  if (remote) {
    meter.absorb(remote);
    response = new Response(response.body, response);
    response.headers.delete(COST_HEADER);
  }
  return { response, cost: meter.close(), meter };
}

/**
 * The Worker's fetch entry: `handler` as is, unless the request sends `X-Cost-Report: 1` and either the var
 * INSTRUMENT is "1" or the request crossed the hop from an edge that meters it (the edge passes the ask on only then,
 * src/placement/hop.ts); then the response gets an `X-Cost` header with the request's cost.
 */
export function withCostReport<E extends object>(
  handler: (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>,
): (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response> {
  return async (request, env, ctx) => {
    if (request.headers.get(COST_REQUEST_HEADER) !== "1") return handler(request, env, ctx);
    const on = (env as { INSTRUMENT?: unknown }).INSTRUMENT === "1" || (await crossedHop(request, env as unknown as Env));
    if (!on) return handler(request, env, ctx);
    const { response, cost } = await meterRequest(handler, request, env, ctx);
    const out = new Response(response.body, response);
    out.headers.set(COST_HEADER, formatCost(cost));
    return out;
  };
}

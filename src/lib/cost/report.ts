/**
 * The cost meter of issue 14: what one request costs in I/O, counted, not guessed. Off unless the Worker runs with
 * the var `INSTRUMENT=1` and the request asks with `X-Cost-Report: 1`; the response then carries
 * `X-Cost: rt=2;model_ms=320;d1=2;d1_replica=0;rows_read=51;...`. When off, the fetch entry compares one string and
 * calls the app exactly as before: no wrapper, no proxy, no patched prototype. The step model is in ./meter.ts, the
 * wrapped bindings in ./bindings.ts.
 * Never set INSTRUMENT in production: the header describes the backend to anyone who asks.
 */
import { instrumentEnv } from "./bindings";
import { type CostReport, CostMeter } from "./meter";

export const COST_HEADER = "X-Cost";
export const COST_REQUEST_HEADER = "X-Cost-Report";

export const formatCost = (report: CostReport): string =>
  Object.entries(report)
    .map(([key, value]) => `${key}=${value}`)
    .join(";");

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

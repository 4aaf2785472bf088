import { createApp } from "./app";
import { consumeEvents } from "./features/events/consumer";
import type { EventMessage } from "./features/events/events";
import { runSweep } from "./features/sweep/sweep.service";
import { withCostReport } from "./lib/cost/report";
import { forwardWrites } from "./placement/hop";

export { Inventory } from "./inventory/inventory.do";
export { LoginGuard } from "./features/auth/login-guard.do";
export { ClientHolds } from "./features/orders/client-holds.do";

const app = createApp();

export default {
  // The app itself; at the edge, the writes that belong next to the data go there in one call (src/placement/); with
  // INSTRUMENT=1 a request may ask for its I/O cost (src/lib/cost/, `npm run bench`).
  fetch: withCostReport<Env>(forwardWrites(app.fetch)),
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runSweep(env));
  },
  // The events Queue and its dead-letter queue: webhook fan-out and deliveries (src/features/events).
  queue: (batch, env, _ctx) => consumeEvents(batch, env),
} satisfies ExportedHandler<Env, EventMessage>;

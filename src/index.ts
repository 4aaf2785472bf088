import { createApp } from "./app";
import { runSweep } from "./features/sweep/sweep.service";

export { Inventory } from "./inventory/inventory.do";
export { LoginGuard } from "./features/auth/login-guard.do";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runSweep(env));
  },
} satisfies ExportedHandler<Env>;

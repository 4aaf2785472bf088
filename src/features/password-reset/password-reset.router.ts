import { limitedClientIp } from "../../lib/client-ip";
import { createRouter, type Handler } from "../../lib/openapi";
import * as routes from "./password-reset.routes";
import { confirmPasswordReset, requestPasswordReset, RESET_REQUESTED } from "./password-reset.service";

const requestReset: Handler<typeof routes.requestResetRoute> = async (c) => {
  const waitUntil = (p: Promise<unknown>) => {
    try {
      c.executionCtx.waitUntil(p);
    } catch {
      // no execution context (app.request in a unit test): let it run
    }
  };
  await requestPasswordReset(c.env, c.get("db"), c.req.valid("json").email, limitedClientIp(c), waitUntil);
  return c.json(RESET_REQUESTED, 200);
};

const confirmReset: Handler<typeof routes.confirmResetRoute> = async (c) => {
  await confirmPasswordReset(c.get("db"), c.req.valid("json"));
  return c.json({ detail: "Your password has been reset. Sign in with the new password." }, 200);
};

/** Mounted at /api/auth/password-reset/. */
export const passwordResetRouter = createRouter()
  .openapi(routes.requestResetRoute, requestReset)
  .openapi(routes.confirmResetRoute, confirmReset);

import { HTTPException } from "hono/http-exception";
import { db } from "./db/client";
import type { AppEnv } from "./env";
import { analyticsRouter } from "./features/analytics/analytics.router";
import { authRouter } from "./features/auth/auth.router";
import { cartRouter } from "./features/carts/cart.router";
import { catalogRouter } from "./features/catalog/catalog.router";
import { publishAfterWrite } from "./features/events/outbox";
import { healthRouter } from "./features/health/health.router";
import { ordersRouter } from "./features/orders/orders.router";
import { passwordResetRouter } from "./features/password-reset/password-reset.router";
import { paymentsRouter } from "./features/payments/payments.router";
import { webhooksRouter } from "./features/webhooks/webhooks.router";
import { docsHtml, docsSecureHeaders } from "./lib/docs";
import { ApiError } from "./lib/errors";
import { logError } from "./lib/log";
import { createRouter } from "./lib/openapi";
import { authenticate } from "./middleware/auth";
import { limitBodySize } from "./middleware/body-limit";
import { noStoreByDefault } from "./middleware/no-store";
import { responseHeaders } from "./middleware/response-headers";

export function createApp() {
  const app = createRouter();

  app.use("*", ...responseHeaders);
  app.use("*", limitBodySize);
  app.use("*", async (c, next) => {
    c.set("db", db(c.env.DB));
    c.set("user", null);
    await next();
  });
  app.use("/api/*", noStoreByDefault);
  app.use("/api/*", authenticate);
  app.use("/api/*", publishAfterWrite); // order and stock events leave for the Queue after the response

  // One chain, so the type of the result lists every route: `App` below, for `hc<App>` clients (examples/typed-client.ts).
  const routes = app
    .route("/", healthRouter)
    .route("/api/auth", authRouter)
    .route("/api/auth/password-reset/", passwordResetRouter)
    .route("/api", analyticsRouter)
    .route("/api", catalogRouter)
    .route("/api/cart/", cartRouter) // trailing slash: "/" inside the router is then "/api/cart/"
    .route("/api/orders/", ordersRouter)
    .route("/api/payments", paymentsRouter)
    .route("/api/webhooks/", webhooksRouter);

  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "Access token from POST /api/auth/login/ or /api/auth/register/",
  });
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Edge Shop API",
      version: "1.0.0",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
      description:
        "E-commerce backend on Cloudflare Workers: accounts, catalogue, carts, orders, Razorpay payments and analytics. " +
        "Errors are JSON: DRF-style field errors `{field: [message]}`, or `{error}` / `{detail}`.",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.get("/docs", docsSecureHeaders, (c) => c.html(docsHtml));

  app.notFound((c) => c.json({ detail: "Not found." }, 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.body, err.status, err.headers);
    if (err instanceof HTTPException) {
      // Hono's own errors: malformed JSON (400), wrong content type (415), body too large (413)...
      const message = err.status === 400 && /json/i.test(err.message) ? "JSON parse error - malformed JSON in request body" : err.message;
      return c.json({ detail: message || "Request could not be processed." }, err.status);
    }
    logError("unhandled error", err, { requestId: c.get("requestId"), path: c.req.path });
    return c.json({ detail: "Internal server error.", request_id: c.get("requestId") }, 500);
  });

  return routes;
}

export type App = ReturnType<typeof createApp>;

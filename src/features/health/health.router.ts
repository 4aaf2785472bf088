import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, json, publicSecurity } from "../../lib/openapi";

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  operationId: "checkHealth",
  tags: ["Health"],
  summary: "Liveness check for load balancers and monitors",
  security: publicSecurity,
  responses: { 200: json(z.object({ status: z.literal("ok") }).openapi("Health"), "The Worker is up") },
});

export const healthRouter = createRouter().openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));

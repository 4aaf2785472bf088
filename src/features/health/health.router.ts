import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, json } from "../../lib/openapi";

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["Health"],
  summary: "Liveness check for load balancers and monitors",
  responses: { 200: json(z.object({ status: z.literal("ok") }).openapi("Health"), "The Worker is up") },
});

export const healthRouter = createRouter().openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));

/**
 * The headers every answer carries, whoever makes it: a request id, the security headers and CORS (`CORS_ORIGINS`).
 * The app uses them first of all; the edge uses them for the one answer it makes without the app: a hop to the data
 * side that failed (src/placement/hop.ts).
 */
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env";

const corsFromEnv = createMiddleware<AppEnv>((c, next) => {
  const origins = (c.env.CORS_ORIGINS ?? "*").split(",").map((o) => o.trim());
  return cors({
    origin: origins.includes("*") ? "*" : origins,
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Cart-Id", "X-D1-Bookmark"],
    exposeHeaders: ["X-Cart-Id", "X-Request-Id", "ETag", "Retry-After", "X-D1-Bookmark", "Idempotent-Replayed"],
    maxAge: 600,
  })(c, next);
});

export const responseHeaders = [requestId(), secureHeaders(), corsFromEnv] as const;

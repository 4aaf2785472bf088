/**
 * HTTP caching for public catalogue reads: an `ETag` (hono's etag middleware hashes the body and answers 304 to a
 * matching `If-None-Match`) and a `Cache-Control` that lets browsers and the edge keep anonymous responses briefly.
 * Callers with a token may see other data (admins see inactive products), so theirs are private and never stored.
 */
import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";

export const PUBLIC_CACHE_CONTROL = "public, max-age=30";
export const PRIVATE_CACHE_CONTROL = "private, no-store";

const cacheControl = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.status !== 200 && c.res.status !== 304) return;
  c.res.headers.set("Cache-Control", c.req.header("Authorization") ? PRIVATE_CACHE_CONTROL : PUBLIC_CACHE_CONTROL);
  c.res.headers.append("Vary", "Authorization");
});

/** Route middleware for cacheable catalogue GETs. */
export const cachedRead = [cacheControl, etag()];

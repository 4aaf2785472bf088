/**
 * `Cache-Control: no-store` on every API response that did not choose its own caching: profiles, addresses, carts,
 * orders, payments, admin data and tokens are one person's, and no browser, proxy or CDN may keep them. Public
 * catalogue reads set their own header (catalog.cache.ts: public for anonymous callers, `private, no-store` for
 * callers with a token), and keep it.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

export const noStoreByDefault = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.headers.has("Cache-Control")) return;
  try {
    c.res.headers.set("Cache-Control", "no-store");
  } catch {
    // a response with immutable headers (one fetched from elsewhere): copy it, then mark the copy
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set("Cache-Control", "no-store");
  }
});

/**
 * HTTP caching for public catalogue reads.
 * - `ETag` (hono's etag middleware hashes the body and answers 304 to a matching `If-None-Match`) and a
 *   `Cache-Control` that lets browsers and the edge keep anonymous responses for 30 seconds. Callers with a token may
 *   see other data (admins see inactive products), so theirs are private and never stored.
 * - Listings are also kept in the Workers cache (hono's cache middleware, anonymous GETs only), so a popular page or
 *   search is served without touching D1. The key carries a catalogue version that every catalogue write in this
 *   isolate bumps, so a writer reads its own writes at once; elsewhere a listing is at most 30 seconds old, as
 *   `Cache-Control` already allows any CDN. Product detail is not kept: its stock is read live from the inventory object.
 */
import { cache } from "hono/cache";
import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";

export const PUBLIC_CACHE_CONTROL = "public, max-age=30";
export const PRIVATE_CACHE_CONTROL = "private, no-store";

let catalogVersion = 0;

/** Called after every catalogue write: cached listings of the old version are no longer served by this isolate. */
export function catalogChanged(): void {
  catalogVersion++;
}

const cacheControl = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.status !== 200 && c.res.status !== 304) return;
  c.res.headers.set("Cache-Control", c.req.header("Authorization") ? PRIVATE_CACHE_CONTROL : PUBLIC_CACHE_CONTROL);
  c.res.headers.set("Vary", "Authorization");
});

const edgeCache = cache({
  cacheName: "catalog",
  cacheControl: "max-age=30",
  vary: ["Authorization"],
  keyGenerator: (c) => {
    const url = new URL(c.req.url);
    url.searchParams.set("__catalog_version", String(catalogVersion));
    return url.href;
  },
  onCacheNotAvailable: false,
});

/** Route middleware for cacheable catalogue GETs whose data is the D1 projection (lists, search, categories). */
export const cachedListing = [cacheControl, etag(), edgeCache];

/** Route middleware for public GETs that must stay live (product detail shows the inventory object's stock). */
export const cachedRead = [cacheControl, etag()];

/** Route middleware for admin catalogue writes: a successful write retires this isolate's cached listings. */
export const invalidatesCatalog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "GET" && c.res.status < 400) catalogChanged();
});

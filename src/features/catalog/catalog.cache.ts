/**
 * HTTP caching for public catalogue reads.
 * - `ETag` (hono's etag middleware hashes the body and answers 304 to a matching `If-None-Match`) and a
 *   `Cache-Control` that lets browsers and the edge keep anonymous responses for 30 seconds. Callers with a token may
 *   see other data (admins see inactive products), so theirs are private and never stored.
 * - Listings are also kept, for anonymous GETs only, in two layers so a popular page or search is served without
 *   touching D1: a small in-isolate memo for 5 seconds (no I/O at all on a hit), then the Workers cache (hono's cache
 *   middleware, shared by the isolates of a location) for 30 seconds. Keys carry a catalogue version that every
 *   catalogue write in this isolate bumps, so a writer reads its own writes at once; elsewhere a listing is at most
 *   30 seconds old, as `Cache-Control` already allows any CDN. Product detail is not kept: its stock is read live
 *   from the inventory object.
 */
import { cache } from "hono/cache";
import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { conditionalGet } from "../../lib/openapi";

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

function versionedKey(url: string): string {
  const key = new URL(url);
  key.searchParams.set("__catalog_version", String(catalogVersion));
  return key.href;
}

const edgeCache = cache({
  cacheName: "catalog",
  cacheControl: "max-age=30",
  vary: ["Authorization"],
  keyGenerator: (c) => versionedKey(c.req.url),
  onCacheNotAvailable: false,
});

const MEMO_TTL_MS = 5_000;
const MEMO_MAX_ENTRIES = 256;
const memo = new Map<string, { expiresAt: number; body: ArrayBuffer; headers: [string, string][] }>();

/** In-isolate memo of anonymous listing responses: bounded (oldest evicted first) and short-lived. */
const isolateMemo = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "GET" || c.req.header("Authorization")) return next();
  const key = versionedKey(c.req.url);
  const hit = memo.get(key);
  if (hit && hit.expiresAt > Date.now()) return new Response(hit.body, { status: 200, headers: hit.headers });
  await next();
  if (c.res.status !== 200 || c.res.headers.has("Set-Cookie")) return;
  const body = await c.res.clone().arrayBuffer();
  memo.delete(key);
  memo.set(key, { expiresAt: Date.now() + MEMO_TTL_MS, body, headers: [...c.res.headers] });
  if (memo.size > MEMO_MAX_ENTRIES) memo.delete(memo.keys().next().value!);
});

/** Route middleware for cacheable catalogue GETs whose data is the D1 projection (lists, search, categories). */
export const cachedListing = [cacheControl, conditionalGet(etag()), isolateMemo, edgeCache];

/** Route middleware for public GETs that must stay live (product detail shows the inventory object's stock). */
export const cachedRead = [cacheControl, conditionalGet(etag())];

/** Route middleware for admin catalogue writes: a successful write retires this isolate's cached listings. */
export const invalidatesCatalog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "GET" && c.res.status < 400) catalogChanged();
});

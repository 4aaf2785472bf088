/**
 * HTTP caching for public catalogue reads.
 * - `ETag` (hono's etag middleware hashes the body and answers 304 to a matching `If-None-Match`) and a
 *   `Cache-Control` that lets browsers and the edge keep anonymous responses for 30 seconds. Callers with a token may
 *   see other data (admins see inactive products), so theirs are private and never stored.
 * - Listings are also kept, for anonymous GETs only, in two layers so a popular page or search is served without
 *   touching D1: a small in-isolate memo for 5 seconds (no I/O at all on a hit), then the Workers cache (hono's cache
 *   middleware, shared by the isolates of a location) for 30 seconds. Keys carry a catalogue version that every
 *   catalogue write in this isolate bumps, so a writer reads its own writes at once; elsewhere a listing is at most
 *   30 seconds old, as `Cache-Control` already allows any CDN. Product detail is kept the same way: its stock is the
 *   D1 projection, like the listings'.
 * - On a miss, anonymous reads go through the D1 Sessions API, so the nearest read replica answers. A client that
 *   sends back the `X-D1-Bookmark` of an earlier answer reads data at least that new. Callers with a token read the
 *   primary, so an admin always sees their own catalogue writes.
 */
import { cache } from "hono/cache";
import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import { sessionDb } from "../../db/client";
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

/**
 * A small in-isolate memo: bounded (oldest evicted first), short-lived, and keyed under the catalogue version, so a
 * catalogue write in this isolate retires every entry at once.
 */
export function isolateMemo<T>({ ttlMs, maxEntries }: { ttlMs: number; maxEntries: number }) {
  const entries = new Map<string, { expiresAt: number; value: T }>();
  return {
    get(key: string): T | undefined {
      const hit = entries.get(`${catalogVersion}|${key}`);
      return hit && hit.expiresAt > Date.now() ? hit.value : undefined;
    },
    set(key: string, value: T): void {
      const versioned = `${catalogVersion}|${key}`;
      entries.delete(versioned);
      entries.set(versioned, { expiresAt: Date.now() + ttlMs, value });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
  };
}

const responses = isolateMemo<{ body: ArrayBuffer; headers: [string, string][] }>({ ttlMs: 5_000, maxEntries: 256 });

/** Anonymous listing responses kept in the isolate: a hit costs no I/O at all. */
const memoizedResponse = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "GET" || c.req.header("Authorization")) return next();
  const hit = responses.get(c.req.url);
  if (hit) return new Response(hit.body, { status: 200, headers: hit.headers });
  await next();
  if (c.res.status !== 200 || c.res.headers.has("Set-Cookie")) return;
  responses.set(c.req.url, { body: await c.res.clone().arrayBuffer(), headers: [...c.res.headers] });
});

export const BOOKMARK_HEADER = "X-D1-Bookmark";
/** D1 bookmarks are opaque hex-and-dash strings; anything else is ignored rather than handed to D1. */
const BOOKMARK = /^[0-9a-f-]{1,200}$/i;

/** Anonymous reads from the nearest D1 replica (Sessions API); the answer carries the session's bookmark. */
const replicaReads = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "GET" || c.req.header("Authorization")) return next();
  const bookmark = c.req.header(BOOKMARK_HEADER);
  const session = c.env.DB.withSession(bookmark && BOOKMARK.test(bookmark) ? bookmark : "first-unconstrained");
  c.set("db", sessionDb(session));
  await next();
  const latest = session.getBookmark();
  if (latest && c.res.status === 200) c.res.headers.set(BOOKMARK_HEADER, latest);
});

/** Route middleware for public catalogue GETs (lists, search, categories, product detail): all read D1 only. */
export const cachedListing = [cacheControl, conditionalGet(etag()), memoizedResponse, edgeCache, replicaReads];

/** Route middleware for admin catalogue writes: a successful write retires this isolate's cached listings. */
export const invalidatesCatalog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "GET" && c.res.status < 400) catalogChanged();
});

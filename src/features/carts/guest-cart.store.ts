/**
 * Anonymous carts in D1 (`guest_carts` + `guest_cart_items`), found by an opaque id that the client holds in the
 * `cart_id` cookie (browsers) or the `X-Cart-Id` header (API clients; when both are sent and differ, the one that has
 * a cart, the header's first). An id is 128 random bits followed by a 128-bit HMAC of them, so the server recognises
 * the ids it minted without a read, and never adopts one a client made up (a planted id cannot point into a cart of
 * our choosing). Starting a cart counts against the client address's hourly quota (`GUEST_CARTS_PER_IP_PER_HOUR`).
 * Every write is a row-level statement that runs next to the D1 primary (the data Worker, src/placement/), so it
 * starts from the cart as it is, wherever the shopper's previous request ran: a line is never lost to a stale read
 * (KV, where these carts used to live, shows a write elsewhere only after up to 60 s; issue 27 scenario 6).
 * Nothing is written until the first change; every write refreshes the 30-day cookie and `updated_at`, and the sweep
 * deletes a cart idle for 30 days. A login merges the cart and marks it merged (`merged_at`): a write still in flight
 * with its id then answers 409, rather than recreating the cart where the shopper, now signed in, would not see it.
 */
import { and, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Database } from "../../db/client";
import { guestCartItems, guestCarts } from "../../db/schema";
import type { AppEnv } from "../../env";
import { limitedClientIp } from "../../lib/client-ip";
import { hmacSha256Hex, randomHex, timingSafeEqual } from "../../lib/crypto";
import { errorMessage } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { admitPerIp, guestCartPolicy } from "../auth/ip-quota";
import { cartIdOf, cartLineStore, type CartOwner, readLines } from "./cart-lines";
import type { CartStore } from "./cart.store";

export const CART_COOKIE = "cart_id";
export const CART_HEADER = "X-Cart-Id";
const CART_ID = /^([0-9a-f]{32})([0-9a-f]{32})$/;
/** How long an untouched anonymous cart is kept (the cookie's Max-Age; the sweep's cut-off). */
export const GUEST_CART_TTL_SECONDS = 30 * 24 * 60 * 60;

const encoder = new TextEncoder();

/** The MAC half of a cart id: HMAC-SHA256 of the random half, truncated to 128 bits. */
const cartIdMac = async (env: Env, random: string) => (await hmacSha256Hex(env.JWT_SECRET, `cart-id:${random}`)).slice(0, 32);

async function mintCartId(env: Env): Promise<string> {
  const random = randomHex(16);
  return random + (await cartIdMac(env, random));
}

/** True for ids this server minted; checked in constant time, without a read. */
async function isMintedCartId(env: Env, id: string | undefined): Promise<boolean> {
  const match = id ? CART_ID.exec(id) : null;
  if (!match) return false;
  return timingSafeEqual(encoder.encode(await cartIdMac(env, match[1])), encoder.encode(match[2]));
}

/**
 * The minted cart id the caller sent: the header's or the cookie's; when both are sent and differ (a client that kept
 * an old header), the one that has a live cart, the header's first. Null when it sent none.
 */
async function callerCartId(c: Context<AppEnv>): Promise<string | null> {
  const sent: string[] = [];
  for (const id of new Set([c.req.header(CART_HEADER), getCookie(c, CART_COOKIE)])) {
    if (await isMintedCartId(c.env, id)) sent.push(id!);
  }
  if (sent.length < 2) return sent[0] ?? null;
  const live = await c
    .get("db")
    .select({ token: guestCarts.token })
    .from(guestCarts)
    .where(and(inArray(guestCarts.token, sent), isNull(guestCarts.mergedAt)));
  return sent.find((id) => live.some((row) => row.token === id)) ?? sent[0];
}

const mergedCart = () =>
  errorMessage(409, "This cart was moved into your account's cart when you signed in. Sign in to keep shopping with it.");

/** The anonymous cart of `token`, while no login has merged it. */
export function guestCartOwner(db: Database, token: string): CartOwner {
  const live = and(eq(guestCarts.token, token), isNull(guestCarts.mergedAt));
  return {
    lines: guestCartItems,
    cartTable: sql`${guestCarts}`,
    ownsCart: sql`c.token = ${token} and c.merged_at is null`,
    readCart: () => db.select({ id: guestCarts.id, createdAt: guestCarts.createdAt, updatedAt: guestCarts.updatedAt }).from(guestCarts).where(live).get(),
    ensureCart: () => db.insert(guestCarts).values({ token }).onConflictDoNothing({ target: guestCarts.token }),
    touch: () => db.update(guestCarts).set({ updatedAt: nowIso() }).where(live).returning({ id: guestCarts.id }),
  };
}

/** The caller's anonymous cart (a minted id is enough: a cart not written yet is an empty one). */
export async function guestCartStore(c: Context<AppEnv>): Promise<CartStore> {
  const db = c.get("db");
  const sent = await callerCartId(c);
  const token = sent ?? (await mintCartId(c.env));
  const owner = guestCartOwner(db, token);
  const lines = cartLineStore(db, owner);
  /** Whether the cart may exist: the client sent its id, or this request wrote it. */
  let mayExist = sent !== null;
  /** After a write that found or made the cart: the client keeps (or learns) its id for another 30 days. */
  const remember = <T>(changed: T): T => {
    if (changed) {
      mayExist = true;
      setCookie(c, CART_COOKIE, token, { httpOnly: true, secure: true, sameSite: "Lax", path: "/", maxAge: GUEST_CART_TTL_SECONDS });
      c.header(CART_HEADER, token);
    }
    return changed;
  };
  /** A write that found no cart under a sent id: 409 when a login merged that cart meanwhile, else `otherwise`. */
  const unlessMerged = async <T>(otherwise: T): Promise<T> => {
    if (!sent) return otherwise;
    const merged = await db.select({ id: guestCarts.id }).from(guestCarts).where(and(eq(guestCarts.token, token), isNotNull(guestCarts.mergedAt))).get();
    if (merged) throw mergedCart();
    return otherwise;
  };

  return {
    ...lines,
    async view() {
      // A client without an id has no cart: nothing to read.
      const { cart, lines: rows } = mayExist ? await readLines(db, owner) : { cart: undefined, lines: [] };
      if (cart) c.header(CART_HEADER, token);
      const now = nowIso();
      return { id: cart ? token : null, lines: rows, createdAt: cart?.createdAt ?? now, updatedAt: cart?.updatedAt ?? now };
    },
    async add(productId, qty, cap) {
      // A new cart counts against the client address's quota; an add that wrote nothing gives its place back.
      const settle = sent ? null : await admitPerIp(c.env, "guest-cart", guestCartPolicy(c.env), limitedClientIp(c), "Too many new carts from this address.");
      // settled after the response: until then the attempt counts anyway
      const settleLater = (happened: boolean) => settle && c.executionCtx.waitUntil(settle(happened));
      try {
        const added = await lines.add(productId, qty, cap);
        settleLater(true);
        return remember(added);
      } catch (err) {
        settleLater(false);
        // a merged cart has a row but takes no lines: the add's NOT NULL refusal, told apart here
        await unlessMerged(null);
        throw err;
      }
    },
    productOfItem: async (itemId) => (await lines.productOfItem(itemId)) ?? (await unlessMerged(null)),
    setQuantity: async (itemId, qty) => remember((await lines.setQuantity(itemId, qty)) || (await unlessMerged(false))),
    remove: async (itemId) => remember((await lines.remove(itemId)) || (await unlessMerged(false))),
    // Nothing to clear in a cart that was never saved, and no reason to start one.
    clear: async () => mayExist && remember(await lines.clear()),
  };
}

/** An anonymous cart's lines, as read for a merge on register or login; null when the caller has no such cart. */
export interface GuestCartLines {
  token: string;
  lines: Array<{ productId: number; quantity: number }>;
}

export async function findGuestCart(c: Context<AppEnv>): Promise<GuestCartLines | null> {
  const token = await callerCartId(c);
  if (!token) return null;
  const rows = await c
    .get("db")
    .select({ productId: guestCartItems.productId, quantity: guestCartItems.quantity })
    .from(guestCartItems)
    .where(sql`${guestCartItems.cartId} = ${cartIdOf(guestCartOwner(c.get("db"), token))}`)
    .orderBy(guestCartItems.id);
  return rows.length > 0 ? { token, lines: rows } : null;
}

/** Once its lines are in the user's cart (the delete is in the login's batch), the browser forgets the cart. */
export function forgetGuestCart(c: Context<AppEnv>): void {
  deleteCookie(c, CART_COOKIE, { path: "/", secure: true });
}

/**
 * Anonymous carts in KV, keyed by an opaque id that the client holds in the `cart_id` cookie (browsers) or the
 * `X-Cart-Id` header (API clients). An id is 128 random bits followed by a 128-bit HMAC of them, so the server
 * recognises the ids it minted without reading KV, and never adopts one a client made up (a planted id cannot
 * point into a cart of our choosing). A minted id whose entry KV does not return yet (written in another
 * location: KV is eventually consistent, up to 60 s) keeps being used: the next write goes to that same id rather
 * than to a new cart whose cookie would orphan the real one.
 * Nothing is written until the first change; every write refreshes the 30-day TTL. KV is last-write-wins and
 * allows one write per second per key: a faster write is retried once the window has passed (lib/kv.ts).
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../../env";
import { hmacSha256Hex, randomHex, timingSafeEqual } from "../../lib/crypto";
import { errorMessage } from "../../lib/errors";
import { writeKvKey } from "../../lib/kv";
import { nowIso } from "../../lib/time";
import { loadProductRows } from "../catalog/products.view";
import type { CartLineView, CartStore, CartView } from "./cart.store";
import { MAX_CART_LINES } from "./cart.schemas";

export const CART_COOKIE = "cart_id";
export const CART_HEADER = "X-Cart-Id";
const CART_ID = /^([0-9a-f]{32})([0-9a-f]{32})$/;
const TTL_SECONDS = 30 * 24 * 60 * 60;

const GuestCartSchema = z.object({
  items: z.array(
    z.object({ id: z.number().int(), product_id: z.number().int(), quantity: z.number().int(), added_at: z.string() }),
  ),
  next_item_id: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type GuestCart = z.infer<typeof GuestCartSchema>;

export interface StoredGuestCart {
  id: string;
  cart: GuestCart;
}

const BUSY = "This cart is being changed too quickly. Try again in a second.";
const encoder = new TextEncoder();

/** The MAC half of a cart id: HMAC-SHA256 of the random half, truncated to 128 bits. */
const cartIdMac = async (env: Env, random: string) => (await hmacSha256Hex(env.JWT_SECRET, `cart-id:${random}`)).slice(0, 32);

async function mintCartId(env: Env): Promise<string> {
  const random = randomHex(16);
  return random + (await cartIdMac(env, random));
}

/** True for ids this server minted; checked in constant time, without a KV read. */
async function isMintedCartId(env: Env, id: string | undefined): Promise<boolean> {
  const match = id ? CART_ID.exec(id) : null;
  if (!match) return false;
  return timingSafeEqual(encoder.encode(await cartIdMac(env, match[1])), encoder.encode(match[2]));
}

/** The minted cart ids the caller sent (header first, then cookie). */
async function callerCartIds(c: Context<AppEnv>): Promise<string[]> {
  const ids: string[] = [];
  for (const id of new Set([c.req.header(CART_HEADER), getCookie(c, CART_COOKIE)])) {
    if (id && (await isMintedCartId(c.env, id))) ids.push(id);
  }
  return ids;
}

/** The caller's saved anonymous cart: the first minted id (header, then cookie) that KV returns an entry for. */
export async function findGuestCart(c: Context<AppEnv>): Promise<StoredGuestCart | null> {
  for (const id of await callerCartIds(c)) {
    const parsed = GuestCartSchema.safeParse(await c.env.CARTS.get(id, "json"));
    if (parsed.success) return { id, cart: parsed.data };
  }
  return null;
}

/** Forgets an anonymous cart once it has been merged into a user's cart. */
export async function deleteGuestCart(c: Context<AppEnv>, id: string): Promise<void> {
  await writeKvKey(() => c.env.CARTS.delete(id), BUSY);
  deleteCookie(c, CART_COOKIE, { path: "/", secure: true });
}

export async function guestCartStore(c: Context<AppEnv>): Promise<CartStore> {
  const found = await findGuestCart(c);
  // A minted id with no entry visible here may hold a cart written elsewhere: keep writing to it.
  let id = found?.id ?? (await callerCartIds(c))[0] ?? null;
  let saved = !!found;
  const now = nowIso();
  const cart: GuestCart = found?.cart ?? { items: [], next_item_id: 1, created_at: now, updated_at: now };
  if (found) c.header(CART_HEADER, found.id);

  const save = async () => {
    const key = (id ??= await mintCartId(c.env));
    cart.updated_at = nowIso();
    await writeKvKey(() => c.env.CARTS.put(key, JSON.stringify(cart), { expirationTtl: TTL_SECONDS }), BUSY);
    saved = true;
    setCookie(c, CART_COOKIE, key, { httpOnly: true, secure: true, sameSite: "Lax", path: "/", maxAge: TTL_SECONDS });
    c.header(CART_HEADER, key);
  };
  const line = (itemId: number) => cart.items.find((item) => item.id === itemId);

  return {
    async view(): Promise<CartView> {
      const products = await loadProductRows(c.get("db"), cart.items.map((item) => item.product_id));
      // A product deleted from the catalogue drops out of the cart.
      const lines = cart.items.flatMap((item): CartLineView[] => {
        const product = products.get(item.product_id);
        return product ? [{ id: item.id, quantity: item.quantity, addedAt: item.added_at, product }] : [];
      });
      return { id: saved ? id : null, lines, createdAt: cart.created_at, updatedAt: cart.updated_at };
    },
    async quantityOf(productId) {
      return cart.items.find((item) => item.product_id === productId)?.quantity ?? 0;
    },
    async add(productId, qty, cap) {
      const existing = cart.items.find((item) => item.product_id === productId);
      if (existing) {
        if (existing.quantity + qty > cap) return false;
        existing.quantity += qty;
      } else {
        if (qty > cap) return false;
        // MAX_CART_LINES also bounds the KV value and the work of a merge for a cart nobody has to authenticate to fill.
        if (cart.items.length >= MAX_CART_LINES) throw errorMessage(400, `A cart can hold at most ${MAX_CART_LINES} different products`);
        cart.items.push({ id: cart.next_item_id++, product_id: productId, quantity: qty, added_at: nowIso() });
      }
      await save();
      return true;
    },
    async productOfItem(itemId) {
      return line(itemId)?.product_id ?? null;
    },
    async setQuantity(itemId, qty) {
      const item = line(itemId);
      if (!item) return false;
      item.quantity = qty;
      await save();
      return true;
    },
    async remove(itemId) {
      const index = cart.items.findIndex((item) => item.id === itemId);
      if (index < 0) return false;
      cart.items.splice(index, 1);
      await save();
      return true;
    },
    async clear() {
      // Nothing to clear in a cart that was never saved, and no reason to start one.
      if (!saved) return;
      cart.items = [];
      await save();
    },
  };
}

/**
 * The cart rules, the same for user and anonymous carts: products must exist and be active, quantities stay
 * within 1..999 per line and within the stock the product's inventory object holds now (never the D1 projection,
 * never a cached value). Prices are never stored; every view reads them from the catalogue.
 * Also the merge of an anonymous cart into a user's cart on register and login.
 */
import type { Context } from "hono";
import type { Database } from "../../db/client";
import type { AppEnv } from "../../env";
import { errorMessage, fieldError } from "../../lib/errors";
import { logError } from "../../lib/log";
import { availableStock, availableStocks } from "../../inventory/inventory.client";
import { loadProductRows, type ProductListRow } from "../catalog/products.view";
import { MAX_LINE_QUANTITY, PRODUCT_NOT_FOUND } from "./cart.schemas";
import type { CartStore } from "./cart.store";
import { deleteGuestCart, findGuestCart } from "./guest-cart.store";
import { mergeIntoUserCart } from "./user-cart.store";

export { getUserCartId } from "./user-cart.store";

const onlyInStock = (available: number) => `Only ${available} items available in stock`;

async function activeProduct(db: Database, productId: number): Promise<ProductListRow> {
  const product = (await loadProductRows(db, [productId])).get(productId);
  if (!product?.isActive) throw fieldError("product_id", PRODUCT_NOT_FOUND);
  return product;
}

/** Adds `quantity` units of a product; a product already in the cart gets the sum. */
export async function addToCart(env: Env, db: Database, cart: CartStore, productId: number, quantity: number): Promise<void> {
  const [, existing] = await Promise.all([activeProduct(db, productId), cart.quantityOf(productId)]);
  const stock = await availableStock(env, productId);
  if (quantity > stock) throw fieldError("quantity", onlyInStock(stock));
  if (existing + quantity > stock) throw errorMessage(400, onlyInStock(stock));
  if (existing + quantity > MAX_LINE_QUANTITY) {
    throw errorMessage(400, `Quantity cannot exceed ${MAX_LINE_QUANTITY} per product (${existing} already in cart)`);
  }
  // The store re-checks the cap as it writes: a concurrent add may have grown the line since we read it.
  if (!(await cart.add(productId, quantity, Math.min(stock, MAX_LINE_QUANTITY)))) throw errorMessage(400, onlyInStock(stock));
}

/** Replaces a line's quantity. An inactive product's line can only be removed, as checkout would refuse it. */
export async function updateCartItem(env: Env, db: Database, cart: CartStore, itemId: number, quantity: number): Promise<void> {
  const productId = await cart.productOfItem(itemId);
  if (productId === null) throw cartItemNotFound();
  const product = (await loadProductRows(db, [productId])).get(productId);
  if (!product?.isActive) throw errorMessage(400, `${product?.name ?? "This product"} is no longer available`);
  const stock = await availableStock(env, productId);
  if (quantity > stock) throw errorMessage(400, onlyInStock(stock));
  if (!(await cart.setQuantity(itemId, quantity))) throw cartItemNotFound();
}

export async function removeCartItem(cart: CartStore, itemId: number): Promise<void> {
  if (!(await cart.remove(itemId))) throw cartItemNotFound();
}

/** Another cart's item gets the same 404 as a missing one, so its existence is not revealed. */
const cartItemNotFound = () => errorMessage(404, "Cart item not found");

/**
 * Merges the caller's anonymous cart (cookie or X-Cart-Id) into the user's cart, then deletes it. Each line adds
 * to the user's line, capped by the stock available now and by 999; inactive or deleted products and lines with
 * nothing left under the cap are skipped. A retried login finds no anonymous cart and adds nothing twice.
 * Best effort: the login or registration has already succeeded, so a failure is logged and the anonymous cart
 * stays in KV for the next login rather than failing the response.
 */
export async function mergeGuestCart(c: Context<AppEnv>, userId: number): Promise<void> {
  const guest = await findGuestCart(c);
  if (!guest) return;
  try {
    const db = c.get("db");
    const productIds = guest.cart.items.map((item) => item.product_id);
    const products = await loadProductRows(db, productIds);
    const activeIds = productIds.filter((id) => products.get(id)?.isActive);
    const stocks = await availableStocks(c.env, activeIds);
    const lines = guest.cart.items
      .filter((item) => stocks.has(item.product_id))
      .map((item) => ({
        productId: item.product_id,
        quantity: item.quantity,
        cap: Math.min(stocks.get(item.product_id)!, MAX_LINE_QUANTITY),
      }))
      .filter((line) => line.cap > 0);
    await mergeIntoUserCart(db, userId, lines);
    await deleteGuestCart(c, guest.id);
  } catch (err) {
    logError("guest cart merge failed", err, { requestId: c.get("requestId"), userId });
  }
}

/**
 * The cart rules, the same for user and anonymous carts: products must exist and be active, quantities stay
 * within 1..999 per line and within the stock the product's inventory object holds now (never the D1 projection,
 * never a cached value), and within the product's purchase limit (`max_per_customer`, counting the user's live
 * orders). Prices are never stored; every view reads them from the catalogue. The merge on login is cart-merge.ts.
 */
import type { Database } from "../../db/client";
import { errorMessage, fieldError } from "../../lib/errors";
import { availableStock } from "../../inventory/inventory.client";
import { loadProductRows, type ProductListRow } from "../catalog/products.view";
import { assertCartWithinLimit, customerLimitOf } from "../orders/purchase-limits";
import { MAX_LINE_QUANTITY, PRODUCT_NOT_FOUND } from "./cart.schemas";
import type { CartStore } from "./cart.store";

export { getUserCartId } from "./user-cart.store";

const onlyInStock = (available: number) => `Only ${available} items available in stock`;

async function activeProduct(db: Database, productId: number): Promise<ProductListRow> {
  const product = (await loadProductRows(db, [productId])).get(productId);
  if (!product?.isActive) throw fieldError("product_id", PRODUCT_NOT_FOUND);
  return product;
}

/** Adds `quantity` units of a product; a product already in the cart gets the sum. */
export async function addToCart(env: Env, db: Database, cart: CartStore, productId: number, quantity: number, userId: number | null = null): Promise<void> {
  const [, existing, limit] = await Promise.all([activeProduct(db, productId), cart.quantityOf(productId), customerLimitOf(db, productId, userId)]);
  const stock = await availableStock(env, productId);
  if (quantity > stock) throw fieldError("quantity", onlyInStock(stock));
  assertCartWithinLimit(limit, existing + quantity);
  if (existing + quantity > stock) throw errorMessage(400, onlyInStock(stock));
  if (existing + quantity > MAX_LINE_QUANTITY) {
    throw errorMessage(400, `Quantity cannot exceed ${MAX_LINE_QUANTITY} per product (${existing} already in cart)`);
  }
  // The store re-checks the cap as it writes: a concurrent add may have grown the line since we read it.
  if (!(await cart.add(productId, quantity, Math.min(stock, MAX_LINE_QUANTITY)))) throw errorMessage(400, onlyInStock(stock));
}

/** Replaces a line's quantity. An inactive product's line can only be removed, as checkout would refuse it. */
export async function updateCartItem(env: Env, db: Database, cart: CartStore, itemId: number, quantity: number, userId: number | null = null): Promise<void> {
  const productId = await cart.productOfItem(itemId);
  if (productId === null) throw cartItemNotFound();
  const [products, limit] = await Promise.all([loadProductRows(db, [productId]), customerLimitOf(db, productId, userId)]);
  const product = products.get(productId);
  if (!product?.isActive) throw errorMessage(400, `${product?.name ?? "This product"} is no longer available`);
  const stock = await availableStock(env, productId);
  if (quantity > stock) throw errorMessage(400, onlyInStock(stock));
  assertCartWithinLimit(limit, quantity);
  if (!(await cart.setQuantity(itemId, quantity))) throw cartItemNotFound();
}

export async function removeCartItem(cart: CartStore, itemId: number): Promise<void> {
  if (!(await cart.remove(itemId))) throw cartItemNotFound();
}

/** Another cart's item gets the same 404 as a missing one, so its existence is not revealed. */
const cartItemNotFound = () => errorMessage(404, "Cart item not found");

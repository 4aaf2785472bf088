/**
 * The storage-independent view of a cart and the operations the cart rules need from it. Two stores implement
 * it: user carts in D1 (user-cart.store.ts) and anonymous carts in D1 too (guest-cart.store.ts), sharing their line operations (cart-lines.ts).
 * Stores never hold prices: a view joins each line to the catalogue as it is now.
 */
import { formatMoney } from "../../lib/money";
import { type ProductListRow, toProductListOut } from "../catalog/products.view";
import type { CartOut } from "./cart.schemas";

export interface CartLineView {
  id: number;
  quantity: number;
  addedAt: string;
  product: ProductListRow;
}

export interface CartView {
  id: number | string | null;
  /** In insertion (item id) order. */
  lines: CartLineView[];
  createdAt: string;
  updatedAt: string;
}

export interface CartStore {
  view(): Promise<CartView>;
  /** Quantity of the product's line, 0 when the cart has none. */
  quantityOf(productId: number): Promise<number>;
  /** Adds `qty` to the product's line (creating it) unless the line would exceed `cap`; false when it would. */
  add(productId: number, qty: number, cap: number): Promise<boolean>;
  /** The product id of one of this cart's lines, or null when the cart has no such line. */
  productOfItem(itemId: number): Promise<number | null>;
  /** Replaces a line's quantity; false when the cart has no such line. */
  setQuantity(itemId: number, qty: number): Promise<boolean>;
  /** Removes a line; false when the cart has no such line. */
  remove(itemId: number): Promise<boolean>;
  /** Empties the cart; false when there is no cart to empty. */
  clear(): Promise<boolean>;
}

export function toCartOut(view: CartView): CartOut {
  const items = view.lines.map((line) => ({
    id: line.id,
    product: toProductListOut(line.product),
    quantity: line.quantity,
    subtotal: formatMoney(line.product.pricePaise * line.quantity),
    added_at: line.addedAt,
  }));
  return {
    id: view.id,
    items,
    total_items: view.lines.reduce((sum, line) => sum + line.quantity, 0),
    total_amount: formatMoney(view.lines.reduce((sum, line) => sum + line.product.pricePaise * line.quantity, 0)),
    created_at: view.createdAt,
    updated_at: view.updatedAt,
  };
}

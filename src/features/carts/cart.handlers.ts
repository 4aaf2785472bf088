import type { Context } from "hono";
import type { AppEnv } from "../../env";
import type { Handler } from "../../lib/openapi";
import type * as routes from "./cart.routes";
import { addToCart, removeCartItem, updateCartItem } from "./cart.service";
import { type CartStore, toCartOut } from "./cart.store";
import { guestCartStore } from "./guest-cart.store";
import { userCartStore } from "./user-cart.store";

/** An authenticated caller always uses the user cart; any anonymous cart id it sends is ignored until login. */
async function callerCart(c: Context<AppEnv>): Promise<CartStore> {
  const user = c.get("user");
  return user ? userCartStore(c.get("db"), user.id) : guestCartStore(c);
}

export const getCart: Handler<typeof routes.getCartRoute> = async (c) => {
  const cart = await callerCart(c);
  return c.json(toCartOut(await cart.view()), 200);
};

export const addItem: Handler<typeof routes.addToCartRoute> = async (c) => {
  const { product_id, quantity } = c.req.valid("json");
  const cart = await callerCart(c);
  await addToCart(c.env, c.get("db"), cart, product_id, quantity, c.get("user")?.id ?? null);
  return c.json(toCartOut(await cart.view()), 200);
};

export const updateItem: Handler<typeof routes.updateCartItemRoute> = async (c) => {
  const cart = await callerCart(c);
  await updateCartItem(c.env, c.get("db"), cart, c.req.valid("param").id, c.req.valid("json").quantity, c.get("user")?.id ?? null);
  return c.json(toCartOut(await cart.view()), 200);
};

export const removeItem: Handler<typeof routes.removeCartItemRoute> = async (c) => {
  const cart = await callerCart(c);
  await removeCartItem(cart, c.req.valid("param").id);
  return c.json(toCartOut(await cart.view()), 200);
};

export const clearCart: Handler<typeof routes.clearCartRoute> = async (c) => {
  const cart = await callerCart(c);
  await cart.clear();
  return c.json(toCartOut(await cart.view()), 200);
};

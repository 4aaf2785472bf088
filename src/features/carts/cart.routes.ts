import { createRoute, z } from "@hono/zod-openapi";
import { errors, failure, IdParam, jsonBody, optionalBearerSecurity } from "../../lib/openapi";
import { AddToCartBody, CartSchema, GuestCartCookies, GuestCartHeaders, UpdateCartItemBody } from "./cart.schemas";

const tags = ["Cart"];
// Public routes: a bearer token selects the user's cart; without one, the anonymous cart is used.
const security = optionalBearerSecurity;
const guestCart = { headers: GuestCartHeaders, cookies: GuestCartCookies };

const cartResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: CartSchema } },
  headers: z.object({
    "X-Cart-Id": z.string().optional().openapi({ description: "The anonymous cart's id, once it has been saved" }),
    "Set-Cookie": z.string().optional().openapi({ description: "`cart_id` (HttpOnly, Secure, SameSite=Lax), whenever the anonymous cart is saved" }),
  }),
});

export const getCartRoute = createRoute({
  method: "get",
  path: "/",
  operationId: "getCart",
  tags,
  summary: "The caller's cart (the user's, or the anonymous one); prices and stock as the catalogue shows them now",
  security,
  request: guestCart,
  responses: { 200: cartResponse("The cart"), ...errors(401) },
});

export const addToCartRoute = createRoute({
  method: "post",
  path: "/add/",
  operationId: "addToCart",
  tags,
  summary: "Add a product; a product already in the cart gets the sum of the quantities",
  description:
    "An anonymous add without a cart id starts a cart: at most `GUEST_CARTS_PER_IP_PER_HOUR` (200) a client IP an hour, " +
    "more answer 429 with `Retry-After`. An anonymous cart merged into an account at sign-in answers 409.",
  security,
  request: { ...guestCart, ...jsonBody(AddToCartBody) },
  responses: {
    200: cartResponse("The updated cart"),
    ...errors(401, 429),
    400: failure(400, "fields", "error"),
    409: failure(409, "error"),
  },
});

export const updateCartItemRoute = createRoute({
  method: "patch",
  path: "/items/{id}/",
  operationId: "updateCartItem",
  tags,
  summary: "Replace the quantity of one of the cart's items",
  security,
  request: { ...guestCart, params: IdParam, ...jsonBody(UpdateCartItemBody) },
  responses: {
    200: cartResponse("The updated cart"),
    ...errors(401),
    400: failure(400, "fields", "error"),
    404: failure(404, "error"),
    409: failure(409, "error"),
  },
});

export const removeCartItemRoute = createRoute({
  method: "delete",
  path: "/items/{id}/",
  operationId: "removeCartItem",
  tags,
  summary: "Remove one of the cart's items",
  security,
  request: { ...guestCart, params: IdParam },
  responses: { 200: cartResponse("The updated cart"), ...errors(401), 404: failure(404, "error"), 409: failure(409, "error") },
});

export const clearCartRoute = createRoute({
  method: "delete",
  path: "/clear/",
  operationId: "clearCart",
  tags,
  summary: "Remove every item; the cart itself stays",
  security,
  request: guestCart,
  responses: { 200: cartResponse("The empty cart"), ...errors(401) },
});

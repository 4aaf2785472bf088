import { fieldError } from "../../lib/errors";
import { z } from "@hono/zod-openapi";
import { money } from "../../lib/money";
import { ProductListSchema } from "../catalog/products.view";

export const MAX_LINE_QUANTITY = 999;
/** Different products per cart, user or anonymous: bounds a checkout's work (one hold per line) and a merge's. */
export const MAX_CART_LINES = 100;
export const cartFull = () => fieldError("product_id", `A cart can hold at most ${MAX_CART_LINES} different products`);
export const PRODUCT_NOT_FOUND = "Product not found or inactive";
const NOT_AN_INTEGER = "A valid integer is required.";

/**
 * DRF's IntegerField accepts numeric strings such as "3" or "2.0"; anything else stays as is and fails below. The
 * document says so with `type: ["integer", "string"]`: `minimum`/`maximum` bound the numbers, `pattern` the strings.
 */
const coerceIntegerString = (value: unknown) =>
  typeof value === "string" && /^\s*-?\d+(\.0*)?\s*$/.test(value) ? Number(value) : value;

/** An integer field with DRF's messages; `abort` keeps "1.5" from also failing the range checks. */
const integer = () =>
  z
    .number({ error: (issue) => (issue.input === undefined ? "This field is required." : NOT_AN_INTEGER) })
    .refine(Number.isInteger, { message: NOT_AN_INTEGER, abort: true });

const quantity = z
  .preprocess(
    coerceIntegerString,
    integer().min(1, "Quantity must be greater than 0").max(MAX_LINE_QUANTITY, `Quantity cannot exceed ${MAX_LINE_QUANTITY}`),
  )
  .openapi({
    type: ["integer", "string"],
    minimum: 1,
    maximum: MAX_LINE_QUANTITY,
    pattern: "^\\s*0*[1-9]\\d{0,2}(\\.0*)?\\s*$",
    example: 1,
    description: `1 to ${MAX_LINE_QUANTITY} (a numeric string is accepted)`,
  });

// A non-positive or huge id names no product: same answer as an unknown one.
const productId = z
  .preprocess(coerceIntegerString, integer().min(1, PRODUCT_NOT_FOUND).max(Number.MAX_SAFE_INTEGER, PRODUCT_NOT_FOUND))
  .openapi({
    type: ["integer", "string"],
    minimum: 1,
    pattern: "^\\s*0*[1-9]\\d*(\\.0*)?\\s*$",
    example: 1,
    description: "Id of an active product (a numeric string is accepted)",
  });

export const AddToCartBody = z.object({ product_id: productId, quantity: quantity.default(1) }).openapi("AddToCartRequest");

export const UpdateCartItemBody = z.object({ quantity }).openapi("UpdateCartItemRequest");

/** The anonymous cart id, from the `cart_id` cookie or the `X-Cart-Id` header (documentation only: bad values mean a new cart). */
export const GuestCartHeaders = z.object({
  "x-cart-id": z.string().optional().openapi({ description: "Anonymous cart id for clients without cookies" }),
});
export const GuestCartCookies = z.object({
  cart_id: z.string().optional().openapi({ description: "Anonymous cart id (HttpOnly cookie)" }),
});

export const CartItemSchema = z
  .object({
    id: z.number().int(),
    product: ProductListSchema,
    quantity: z.number().int(),
    subtotal: money,
    added_at: z.string(),
  })
  .openapi("CartItem");

export const CartSchema = z
  .object({
    id: z.union([z.number().int(), z.string()]).nullable().openapi({
      description: "The user cart's integer id, the anonymous cart's opaque id, or null for an anonymous cart not saved yet",
    }),
    items: z.array(CartItemSchema),
    total_items: z.number().int().openapi({ description: "Sum of the quantities" }),
    total_amount: money,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Cart");

export type CartOut = z.infer<typeof CartSchema>;

import { z } from "@hono/zod-openapi";
import { ORDER_STATUSES, PAYMENT_RECORD_STATUSES, PAYMENT_STATUSES, REFUND_STATUSES } from "../../db/schema";
import { money } from "../../lib/money";
import { readOnly } from "../../lib/openapi";
import { ProductListSchema } from "../catalog/products.view";

export const OrderItemSchema = z
  .object({
    id: z.number().int(),
    product: ProductListSchema,
    product_name: z.string(),
    quantity: z.number().int(),
    price_at_purchase: money,
    subtotal: money,
  })
  .openapi("OrderItem");

/** The order's Razorpay payment record, for support and reconciliation; null before a payment was initiated. */
export const OrderPaymentSchema = z
  .object({
    status: z.enum(PAYMENT_RECORD_STATUSES),
    amount: money,
    currency: z.string(),
    razorpay_order_id: z.string().nullable(),
    razorpay_payment_id: z.string().nullable(),
    razorpay_refund_id: z.string().nullable(),
    updated_at: z.string(),
  })
  .openapi("OrderPayment");

/** Only `shipping_address` comes from the client (at checkout); `status` changes only through update_status. */
export const OrderSchema = z
  .object({
    id: readOnly(z.number().int()),
    order_number: readOnly(z.string().openapi({ example: "ORD-175A0AC77074" })),
    user_email: readOnly(z.string()),
    total_amount: readOnly(money),
    status: readOnly(z.enum(ORDER_STATUSES)),
    payment_status: readOnly(z.enum(PAYMENT_STATUSES)),
    refund_status: readOnly(
      z.enum(REFUND_STATUSES).nullable().openapi({
        description:
          "Where the refund of this order's payment stands: `refund_pending` (owed, being retried), `refund_failed` (retries ran out: an admin must settle it), `refunded`; null when none is owed",
      }),
    ),
    shipping_address: z.string(),
    items: readOnly(z.array(OrderItemSchema)),
    payment: readOnly(OrderPaymentSchema.nullable()),
    created_at: readOnly(z.string()),
    updated_at: readOnly(z.string()),
  })
  .openapi("Order");

export const OrderListSchema = z
  .object({
    id: z.number().int(),
    order_number: z.string(),
    total_amount: money,
    status: z.enum(ORDER_STATUSES),
    payment_status: z.enum(PAYMENT_STATUSES),
    items_count: z.number().int(),
    created_at: z.string(),
  })
  .openapi("OrderList");

export const CreateOrderBody = z
  .object({
    shipping_address: z.string().trim().min(1).max(2000).optional(),
    shipping_address_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  })
  .openapi("CreateOrderRequest", { example: { shipping_address: "123 Test St, City, State, 12345, Country" } });

/** Free-form on purpose: a missing or unknown status gets the contract's `{"error": ...}` messages, not a field error. */
export const UpdateStatusBody = z
  .object({ status: z.unknown().optional().openapi({ type: "string", enum: [...ORDER_STATUSES] }) })
  .openapi("UpdateStatusRequest", { example: { status: "shipped" } });

/**
 * Every D1 table. Money is integer paise; timestamps are ISO 8601 UTC strings (they sort as text and
 * `substr(created_at, 1, 10)` is the UTC day). Booleans are 0/1 integers.
 */
import { sql } from "drizzle-orm";
import {
  type AnySQLiteColumn,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
const createdAt = () => text("created_at").notNull().default(now);
const updatedAt = () => text("updated_at").notNull().default(now);

export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    username: text("username").notNull(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    firstName: text("first_name").notNull().default(""),
    lastName: text("last_name").notNull().default(""),
    phone: text("phone"),
    isStaff: integer("is_staff", { mode: "boolean" }).notNull().default(false),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    dateJoined: text("date_joined").notNull().default(now),
    /**
     * Bumped by the trigger `users_credentials_changed` (migration 0007) whenever the password hash or the staff flag
     * changes, however it changes; device tokens carry it, so such a change revokes them. The same trigger revokes
     * the user's sessions in the same statement.
     */
    credentialsVersion: integer("credentials_version").notNull().default(0),
    /** Set only by change-password, in the same UPDATE as the new hash: the session the trigger spares; it clears it. */
    keepSessionId: text("keep_session_id"),
  },
  (t) => [
    // Usernames and emails are unique case-insensitively (the original let `alice` and `Alice` coexist).
    uniqueIndex("users_username_lower_unique").on(sql`lower(${t.username})`),
    uniqueIndex("users_email_lower_unique").on(sql`lower(${t.email})`),
  ],
);

/** One row per login. Access and refresh tokens carry its id (`sid`); revoking the row ends both at once. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** jti of the only refresh token of this session that may still be used (rotation). */
    refreshJti: text("refresh_jti").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: text("revoked_at"),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAt)],
);

export const addresses = sqliteTable(
  "addresses",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    addressType: text("address_type", { enum: ["shipping", "billing"] }).notNull().default("shipping"),
    streetAddress: text("street_address").notNull(),
    city: text("city").notNull(),
    state: text("state").notNull(),
    postalCode: text("postal_code").notNull(),
    country: text("country").notNull().default("India"),
    phone: text("phone"),
    isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index("addresses_user_idx").on(t.userId)],
);

export const categories = sqliteTable(
  "categories",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    description: text("description"),
    parentId: integer("parent_id").references((): AnySQLiteColumn => categories.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("categories_name_lower_unique").on(sql`lower(${t.name})`),
    uniqueIndex("categories_slug_unique").on(t.slug),
    index("categories_parent_idx").on(t.parentId),
  ],
);

export const products = sqliteTable(
  "products",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    categoryId: integer("category_id")
      .notNull()
      .references(() => categories.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    description: text("description"),
    pricePaise: integer("price_paise").notNull(),
    /** Projection of the inventory Durable Object's available count, for listing and filters only. */
    stock: integer("stock").notNull().default(0),
    /** Version of the projection last written by the inventory object; older writes are ignored. */
    stockVersion: integer("stock_version").notNull().default(0),
    /** How many inventory objects (shards) the stock is spread over: 1 for most, more for a flash sale (issue 25). */
    stockShards: integer("stock_shards").notNull().default(1),
    imageUrl: text("image_url"),
    /** Most units of this product one customer may have in live (not cancelled) orders; null = no limit. */
    maxPerCustomer: integer("max_per_customer"),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    /** Below this many units the product is "low stock"; null: the global default (src/features/catalog/low-stock.ts). */
    lowStockThreshold: integer("low_stock_threshold"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("products_slug_unique").on(t.slug),
    index("products_active_created_idx").on(t.isActive, t.createdAt),
    index("products_active_price_idx").on(t.isActive, t.pricePaise),
    index("products_active_name_idx").on(t.isActive, t.name),
    index("products_category_created_idx").on(t.categoryId, t.createdAt),
    index("products_active_stock_idx").on(t.isActive, t.stock),
    index("products_below_own_threshold_idx").on(t.isActive, sql`stock - low_stock_threshold`).where(sql`low_stock_threshold is not null`),
  ],
);

/**
 * Each stock shard's available units, written behind by the shard (versioned); `products.stock` is their sum,
 * recomputed in the same D1 batch. A product that was never sharded has one row (shard 0) once its object writes.
 */
export const productStockShards = sqliteTable(
  "product_stock_shards",
  {
    productId: integer("product_id").notNull(),
    shard: integer("shard").notNull(),
    available: integer("available").notNull(),
    version: integer("version").notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.shard] })],
);

/** User carts only; anonymous carts live in KV. One cart per user. */
export const carts = sqliteTable("carts", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  userId: integer("user_id")
    .notNull()
    .unique()
    .references(() => users.id, { onDelete: "cascade" }),
  /** The checkout that holds this cart (a lease): only one checkout of a cart runs at a time. */
  checkoutKey: text("checkout_key"),
  /** Epoch ms after which a checkout that died is presumed gone and its lease can be taken. */
  checkoutExpiresAt: integer("checkout_expires_at"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * Anonymous carts (issue 27 scenario 6, issue 24): written next to the D1 primary, so a write always starts from the
 * cart as it is, wherever the shopper's previous request ran. `token` is the minted id the client holds (cookie
 * `cart_id` or header `X-Cart-Id`); a cart idle for 30 days is deleted by the sweep (`updated_at` index).
 */
export const guestCarts = sqliteTable(
  "guest_carts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    token: text("token").notNull().unique(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** Set by the login or registration that moved its lines into a user's cart; later writes to it answer 409. */
    mergedAt: text("merged_at"),
  },
  (t) => [index("guest_carts_updated_idx").on(t.updatedAt)],
);

/** One line per product of a cart; user and anonymous carts have the same line table shape. */
function cartLinesTable<Name extends string>(name: Name, cartId: () => AnySQLiteColumn) {
  return sqliteTable(
    name,
    {
      id: integer("id").primaryKey({ autoIncrement: true }),
      cartId: integer("cart_id")
        .notNull()
        .references(cartId, { onDelete: "cascade" }),
      productId: integer("product_id")
        .notNull()
        .references(() => products.id, { onDelete: "cascade" }),
      quantity: integer("quantity").notNull(),
      addedAt: text("added_at").notNull().default(now),
    },
    // the product index serves the ON DELETE CASCADE of a product (migration 0014)
    (t) => [uniqueIndex(`${name}_cart_product_unique`).on(t.cartId, t.productId), index(`${name}_product_idx`).on(t.productId)],
  );
}

export const cartItems = cartLinesTable("cart_items", () => carts.id);
export const guestCartItems = cartLinesTable("guest_cart_items", () => guestCarts.id);
/** Either line table, for the code both kinds of cart share (carts/cart-lines.ts). */
export type CartLinesTable = ReturnType<typeof cartLinesTable<string>>;

export const ORDER_STATUSES = [
  "pending",
  "paid",
  "processing",
  "shipped",
  "delivered",
  "cancelled",
  "payment_failed",
] as const;
/** Orders still waiting for their money: they hold stock, count towards a user's unpaid limit, and expire. */
export const UNPAID_ORDER_STATUSES = ["pending", "payment_failed"] as const satisfies readonly (typeof ORDER_STATUSES)[number][];
export const PAYMENT_STATUSES = ["pending", "success", "failed", "refunded"] as const;

export const orders = sqliteTable(
  "orders",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    orderNumber: text("order_number").notNull(),
    totalPaise: integer("total_paise").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull().default("pending"),
    paymentStatus: text("payment_status", { enum: PAYMENT_STATUSES }).notNull().default("pending"),
    shippingAddress: text("shipping_address").notNull(),
    /**
     * The key of this order's stock holds in the inventory objects: random per checkout, never the order number, so
     * a retried order number (after a collision) can never touch another order's holds. Older orders use their number.
     */
    holdKey: text("hold_key").notNull(),
    /** Set once a cancelled order's units are back in stock; the sweep finishes cancels that died before this. */
    restockedAt: text("restocked_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("orders_order_number_unique").on(t.orderNumber),
    uniqueIndex("orders_hold_key_unique").on(t.holdKey),
    index("orders_user_created_idx").on(t.userId, t.createdAt),
    index("orders_created_idx").on(t.createdAt),
    index("orders_status_created_idx").on(t.status, t.createdAt),
    index("orders_unfinished_cancel_idx").on(t.id).where(sql`status = 'cancelled' and restocked_at is null`),
    index("orders_payment_status_created_idx").on(t.paymentStatus, t.createdAt),
  ],
);

export const orderItems = sqliteTable(
  "order_items",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    orderId: integer("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    productId: integer("product_id")
      .notNull()
      .references(() => products.id, { onDelete: "restrict" }),
    quantity: integer("quantity").notNull(),
    pricePaise: integer("price_paise").notNull(),
    subtotalPaise: integer("subtotal_paise").notNull(),
  },
  (t) => [
    // covering: order pages and the best-sellers aggregate read items from the index alone
    index("order_items_order_covering_idx").on(t.orderId, t.productId, t.quantity, t.subtotalPaise),
    index("order_items_product_idx").on(t.productId),
  ],
);

/**
 * `refund_pending`: captured money we owe back (a paid order cancelled, or money captured for a cancelled order), written
 * in the same batch as the change that makes us owe it and settled by the request or the sweep; `refund_failed`: the
 * retries ran out (shown to admins on the order, logged).
 */
export const PAYMENT_RECORD_STATUSES = ["initiated", "success", "failed", "refunded", "refund_pending", "refund_failed"] as const;
/** Payment statuses of money captured that we owe back (not yet confirmed refunded). */
export const REFUND_OWED_STATUSES = ["refund_pending", "refund_failed"] as const;
/** The order's `refund_status`: where the refund of its payment stands (null: none owed or made). */
export const REFUND_STATUSES = [...REFUND_OWED_STATUSES, "refunded"] as const;

export const payments = sqliteTable(
  "payments",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    orderId: integer("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "restrict" }),
    razorpayOrderId: text("razorpay_order_id"),
    razorpayPaymentId: text("razorpay_payment_id"),
    razorpaySignature: text("razorpay_signature"),
    razorpayRefundId: text("razorpay_refund_id"),
    amountPaise: integer("amount_paise").notNull(),
    currency: text("currency").notNull().default("INR"),
    status: text("status", { enum: PAYMENT_RECORD_STATUSES }).notNull().default("initiated"),
    gatewayResponse: text("gateway_response"),
    /** Refund calls made for a `refund_pending` payment; the next one is due at `refundNextAt` (ms), with back-off. */
    refundAttempts: integer("refund_attempts").notNull().default(0),
    refundNextAt: integer("refund_next_at"),
    refundError: text("refund_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("payments_order_unique").on(t.orderId),
    uniqueIndex("payments_razorpay_order_unique").on(t.razorpayOrderId),
    uniqueIndex("payments_razorpay_payment_unique").on(t.razorpayPaymentId),
    index("payments_status_idx").on(t.status),
    index("payments_refund_due_idx").on(t.refundNextAt).where(sql`status = 'refund_pending'`),
  ],
);

/** Razorpay webhook deliveries already applied, keyed by `x-razorpay-event-id` (or a hash of the body). */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    event: text("event").notNull(),
    receivedAt: text("received_at").notNull().default(now),
  },
  (t) => [index("webhook_events_received_idx").on(t.receivedAt)],
);

/** Stored first responses of `Idempotency-Key` requests, per user and key; they expire after 24 hours. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    scope: text("scope").notNull(),
    requestHash: text("request_hash").notNull(),
    /** null while the first request is still running. */
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    /** The order this key made, written in that order's own batch (a retry after a dead first request replays it). */
    resourceId: integer("resource_id"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.scope, t.key] }), index("idempotency_keys_expires_idx").on(t.expiresAt)],
);

/**
 * Hold keys an inventory object's alarm released because no order had them, written by the same statement that
 * checked. An order batch writes its order only while its hold key is absent here: release and commit exclude each other.
 */
export const releasedHolds = sqliteTable(
  "released_holds",
  {
    holdKey: text("hold_key").primaryKey(),
    releasedAt: integer("released_at").notNull(),
  },
  (t) => [index("released_holds_released_idx").on(t.releasedAt)],
);

/** Where each bounded pass of the scheduled sweep resumes (e.g. the last product id whose projection was checked). */
export const sweepCursors = sqliteTable("sweep_cursors", {
  name: text("name").primaryKey(),
  position: integer("position").notNull().default(0),
  /** A text position beside `position`, for a cursor over a text key (the event purge: created_at, then rowid). */
  mark: text("mark"),
});

/*
 * Sales rollups: the admin dashboard and the sales report read these instead of every order. They are kept exact by
 * SQLite triggers on `orders` and `order_items` (migration 0005_sales_rollups), not by application code: a trigger
 * runs inside the statement that changes an order, so the rollup moves in the same atomic write (and the same D1
 * batch) whatever the code path (checkout, verify, webhook, refund, cancel, sweep, admin, a seed script or raw SQL).
 * "Paid" means payment_status `success`, as in analytics.service.ts; days are the UTC day, `substr(created_at, 1, 10)`.
 * drizzle-kit knows nothing of triggers: a migration that rebuilds orders or order_items (copy, drop, rename)
 * drops them, and must create them again from 0005_sales_rollups.sql and re-run its backfill.
 */

/** Orders and their total per (status, payment_status): orders by status, revenue and the admin list's count. */
export const orderStatusTotals = sqliteTable(
  "order_status_totals",
  {
    status: text("status", { enum: ORDER_STATUSES }).notNull(),
    paymentStatus: text("payment_status", { enum: PAYMENT_STATUSES }).notNull(),
    orderCount: integer("order_count").notNull().default(0),
    totalPaise: integer("total_paise").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.status, t.paymentStatus] })],
);

/** Orders (any status) per UTC day of creation: a deep page of the admin order list skips whole days with it. */
export const orderDailyCounts = sqliteTable("order_daily_counts", {
  day: text("day").primaryKey(),
  orderCount: integer("order_count").notNull(),
});

/** Paid orders and their total per UTC day of creation; a day with no paid order has no row. */
export const paidSalesDaily = sqliteTable("paid_sales_daily", {
  day: text("day").primaryKey(),
  orderCount: integer("order_count").notNull(),
  totalPaise: integer("total_paise").notNull(),
});

/** Units and revenue per product over the lines of paid orders; a product with no paid line has no row. */
export const productSales = sqliteTable(
  "product_sales",
  {
    productId: integer("product_id").primaryKey(),
    unitsSold: integer("units_sold").notNull(),
    revenuePaise: integer("revenue_paise").notNull(),
  },
  // the best sellers are the first rows of this index: units descending, ties to the lower product id
  (t) => [index("product_sales_best_idx").on(sql`${t.unitsSold} desc`, t.productId)],
);

/*
 * Order events out (migration 0008_order_events): the outbox, webhook endpoints and deliveries. Events are written by
 * SQLite triggers on `orders` and `products` (like the sales rollups above), inside the statement that makes the
 * change, so an event commits with its change in every code path; see src/features/events. Their current bodies are
 * in 0013_event_retention (sequence numbers that survive the retention purge): a rebuild of `orders` or `products`
 * must create them again from there.
 */

/** The outbox: one row per event; `id` is the Standard Webhooks message id (`webhook-id`), fixed when written. */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    orderId: integer("order_id"),
    productId: integer("product_id"),
    /** 1, 2, 3... per order (or product), in the order the events were written; never reused after a purge. */
    seq: integer("seq").notNull().default(1),
    /** The payload's `data`, built once by the first fan-out so every delivery and retry sends the same bytes. */
    data: text("data"),
    /** Epoch ms a publisher took the event to send it; a claim older than a minute with no `sent_at` is retaken. */
    claimedAt: integer("claimed_at"),
    sentAt: text("sent_at"),
    createdAt: createdAt(),
    /** For order.status_changed: the status the order moved to (migration 0011). */
    detail: text("detail"),
  },
  (t) => [
    index("events_unsent_idx").on(t.createdAt).where(sql`sent_at is null`),
    index("events_order_seq_idx").on(t.orderId, t.seq),
    index("events_product_seq_idx").on(t.productId, t.seq),
    index("events_created_idx").on(t.createdAt),
  ],
);

/**
 * The highest `seq` the retention purge removed of each order (`subject` 'order') or product ('product'), migration
 * 0013_event_retention: the event triggers number from the higher of this and the events left, so a purge never
 * makes a later event reuse a sequence number or go back.
 */
export const eventSeqFloors = sqliteTable(
  "event_seq_floors",
  {
    subject: text("subject", { enum: ["order", "product"] }).notNull(),
    subjectId: integer("subject_id").notNull(),
    seq: integer("seq").notNull(),
  },
  (t) => [primaryKey({ columns: [t.subject, t.subjectId] })],
);

export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  url: text("url").notNull(),
  /** JSON array of subscribed event types. */
  events: text("events", { mode: "json" }).$type<string[]>().notNull(),
  description: text("description").notNull().default(""),
  /** `whsec_...`: needed in full to sign, so stored as is (like Razorpay's webhook secret, it is a shared key). */
  secret: text("secret").notNull(),
  /** The secret before the last rotation, still signing beside the new one until `previousSecretExpiresAt` (epoch ms). */
  previousSecret: text("previous_secret"),
  previousSecretExpiresAt: integer("previous_secret_expires_at"),
  isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
  disabledReason: text("disabled_reason"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    endpointId: integer("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    /** At most 1 KB of the receiver's last answer. */
    responseBody: text("response_body"),
    nextAttemptAt: text("next_attempt_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_event_unique").on(t.endpointId, t.eventId),
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.id),
    index("webhook_deliveries_event_idx").on(t.eventId),
    index("webhook_deliveries_pending_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
);

/* Issue 23 (migration 0011_messages): password reset tokens, throttle counters, order emails. */

/** Reset tokens by SHA-256 only; single use; a newer request for the user spends the older ones. */
export const passwordResets = sqliteTable(
  "password_resets",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Epoch ms. */
    expiresAt: integer("expires_at").notNull(),
    usedAt: text("used_at"),
    createdAt: createdAt(),
  },
  (t) => [index("password_resets_user_idx").on(t.userId, t.createdAt), index("password_resets_expires_idx").on(t.expiresAt)],
);

/** Fixed-window request counters: `hits` per `key` in the window starting at `window_start` (epoch ms). */
export const throttleCounters = sqliteTable(
  "throttle_counters",
  {
    key: text("key").notNull(),
    windowStart: integer("window_start").notNull(),
    hits: integer("hits").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] }), index("throttle_counters_window_idx").on(t.windowStart)],
);

export const EMAIL_STATUSES = ["pending", "sent", "failed", "skipped"] as const;

/** One order email per (event, recipient); its id is part of the provider's Idempotency-Key. */
export const emailMessages = sqliteTable(
  "email_messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    recipient: text("recipient").notNull(),
    status: text("status", { enum: EMAIL_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("email_messages_event_recipient_unique").on(t.eventId, t.recipient)],
);

export type User = typeof users.$inferSelect;
export type Category = typeof categories.$inferSelect;
export type Product = typeof products.$inferSelect;
export type Order = typeof orders.$inferSelect;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export type Address = typeof addresses.$inferSelect;
export type Payment = typeof payments.$inferSelect;
export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;

-- Order events out (issue 21): the outbox `events`, webhook endpoints and their deliveries, and the triggers that
-- write an event in the very statement that makes the change it describes (so in the same D1 batch, whatever the
-- code path: checkout, verify, webhook, refund, cancel, sweep, admin, raw SQL). A migration that rebuilds `orders`
-- or `products` drops these triggers and must create them again from this file.
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`order_id` integer,
	`product_id` integer,
	`seq` integer DEFAULT 1 NOT NULL,
	`data` text,
	`claimed_at` integer,
	`sent_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_unsent_idx` ON `events` (`created_at`) WHERE sent_at is null;
--> statement-breakpoint
CREATE INDEX `events_order_seq_idx` ON `events` (`order_id`,`seq`);
--> statement-breakpoint
CREATE INDEX `events_product_seq_idx` ON `events` (`product_id`,`seq`);
--> statement-breakpoint
CREATE INDEX `events_created_idx` ON `events` (`created_at`);
--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_expires_at` integer,
	`is_active` integer DEFAULT 1 NOT NULL,
	`disabled_reason` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`endpoint_id` integer NOT NULL,
	`event_id` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status` integer,
	`last_error` text,
	`response_body` text,
	`next_attempt_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_endpoint_event_unique` ON `webhook_deliveries` (`endpoint_id`,`event_id`);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint_idx` ON `webhook_deliveries` (`endpoint_id`,`id`);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_event_idx` ON `webhook_deliveries` (`event_id`);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_pending_idx` ON `webhook_deliveries` (`next_attempt_at`) WHERE status = 'pending';
--> statement-breakpoint
-- Event ids are the Standard Webhooks message id (`webhook-id`), fixed here once; `seq` numbers one order's (or one
-- product's) events in the order they were written.
CREATE TRIGGER `events_order_created` AFTER INSERT ON `orders` BEGIN
	INSERT INTO events (id, type, order_id, seq) VALUES ('msg_' || lower(hex(randomblob(16))), 'order.created', NEW.id,
		1 + coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0));
END;
--> statement-breakpoint
CREATE TRIGGER `events_order_status` AFTER UPDATE OF `status` ON `orders` WHEN OLD.status IS NOT NEW.status BEGIN
	INSERT INTO events (id, type, order_id, seq) VALUES ('msg_' || lower(hex(randomblob(16))), 'order.status_changed', NEW.id,
		1 + coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0));
	INSERT INTO events (id, type, order_id, seq) SELECT 'msg_' || lower(hex(randomblob(16))), 'order.cancelled', NEW.id,
		1 + coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0) WHERE NEW.status = 'cancelled';
END;
--> statement-breakpoint
CREATE TRIGGER `events_order_payment` AFTER UPDATE OF `payment_status` ON `orders`
	WHEN OLD.payment_status IS NOT NEW.payment_status AND NEW.payment_status IN ('success', 'refunded') BEGIN
	INSERT INTO events (id, type, order_id, seq) VALUES ('msg_' || lower(hex(randomblob(16))),
		CASE NEW.payment_status WHEN 'success' THEN 'order.paid' ELSE 'order.refunded' END, NEW.id,
		1 + coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0));
END;
--> statement-breakpoint
-- Low stock: the projection of an active product crosses below 10, the threshold of GET /api/products/low_stock/.
CREATE TRIGGER `events_product_low_stock` AFTER UPDATE OF `stock` ON `products`
	WHEN NEW.stock < 10 AND OLD.stock >= 10 AND NEW.is_active = 1 BEGIN
	INSERT INTO events (id, type, product_id, seq) VALUES ('msg_' || lower(hex(randomblob(16))), 'product.low_stock', NEW.id,
		1 + coalesce((SELECT max(seq) FROM events WHERE product_id = NEW.id), 0));
END;

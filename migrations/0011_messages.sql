-- Issue 23: customer emails and password reset, on the order events of 0008_order_events.
-- Password reset tokens: only their SHA-256 is stored; single use (`used_at`), a newer request spends older ones.
CREATE TABLE `password_resets` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `password_resets_user_idx` ON `password_resets` (`user_id`,`created_at`);
--> statement-breakpoint
CREATE INDEX `password_resets_expires_idx` ON `password_resets` (`expires_at`);
--> statement-breakpoint
-- Fixed-window counters (password reset requests per email and per client IP).
CREATE TABLE `throttle_counters` (
	`key` text NOT NULL,
	`window_start` integer NOT NULL,
	`hits` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key`, `window_start`)
);
--> statement-breakpoint
CREATE INDEX `throttle_counters_window_idx` ON `throttle_counters` (`window_start`);
--> statement-breakpoint
-- One row per order email: unique per (event, recipient), so a repeated fan-out sends nothing twice, and its id is
-- part of the provider's Idempotency-Key.
CREATE TABLE `email_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`recipient` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status` integer,
	`last_error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_messages_event_recipient_unique` ON `email_messages` (`event_id`,`recipient`);
--> statement-breakpoint
-- The status an order.status_changed event moved to (the order may have moved on by the time it is sent).
ALTER TABLE `events` ADD `detail` text;
--> statement-breakpoint
DROP TRIGGER `events_order_status`;
--> statement-breakpoint
CREATE TRIGGER `events_order_status` AFTER UPDATE OF `status` ON `orders` WHEN OLD.status IS NOT NEW.status BEGIN
	INSERT INTO events (id, type, order_id, seq, detail) VALUES ('msg_' || lower(hex(randomblob(16))), 'order.status_changed', NEW.id,
		1 + coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0), NEW.status);
	INSERT INTO events (id, type, order_id, seq) SELECT 'msg_' || lower(hex(randomblob(16))), 'order.cancelled', NEW.id,
		1 + coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0) WHERE NEW.status = 'cancelled';
END;
--> statement-breakpoint
-- Low stock now follows the product's own threshold (0009_console: `low_stock_threshold`, NULL = 10), as
-- GET /api/products/low_stock/ does: an event when the stock crosses from at or above it to below it.
DROP TRIGGER `events_product_low_stock`;
--> statement-breakpoint
CREATE TRIGGER `events_product_low_stock` AFTER UPDATE OF `stock` ON `products`
	WHEN NEW.stock < coalesce(NEW.low_stock_threshold, 10) AND OLD.stock >= coalesce(NEW.low_stock_threshold, 10) AND NEW.is_active = 1 BEGIN
	INSERT INTO events (id, type, product_id, seq) VALUES ('msg_' || lower(hex(randomblob(16))), 'product.low_stock', NEW.id,
		1 + coalesce((SELECT max(seq) FROM events WHERE product_id = NEW.id), 0));
END;

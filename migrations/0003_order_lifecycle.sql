CREATE TABLE `sweep_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`position` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
DROP INDEX `orders_status_idx`;--> statement-breakpoint
-- SQLite cannot add a NOT NULL column without a constant default: the column is added nullable, existing orders
-- get their order number (the key their holds were taken under), and the application always writes it.
ALTER TABLE `orders` ADD `hold_key` text;--> statement-breakpoint
UPDATE `orders` SET `hold_key` = `order_number` WHERE `hold_key` IS NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `restocked_at` text;--> statement-breakpoint
-- Cancels done before this migration restocked within the same request.
UPDATE `orders` SET `restocked_at` = `updated_at` WHERE `status` = 'cancelled';--> statement-breakpoint
CREATE UNIQUE INDEX `orders_hold_key_unique` ON `orders` (`hold_key`);--> statement-breakpoint
CREATE INDEX `orders_status_created_idx` ON `orders` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `orders_unfinished_cancel_idx` ON `orders` (`id`) WHERE status = 'cancelled' and restocked_at is null;--> statement-breakpoint
ALTER TABLE `carts` ADD `checkout_key` text;--> statement-breakpoint
ALTER TABLE `carts` ADD `checkout_expires_at` integer;--> statement-breakpoint
CREATE INDEX `idempotency_keys_expires_idx` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE INDEX `sessions_expires_idx` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `webhook_events_received_idx` ON `webhook_events` (`received_at`);
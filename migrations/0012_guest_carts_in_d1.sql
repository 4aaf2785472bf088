-- Anonymous carts move from KV to D1 (issue 27 scenario 6, issue 24). In KV a cart was one value rewritten whole, and
-- KV shows a write in other locations only after up to 60 s: a shopper whose next request ran elsewhere rewrote the
-- cart from a stale read and lost lines. Here each line is a row, every write runs next to the primary (the data
-- Worker), and a login merges and deletes the anonymous cart in the same batch as its session. Carts already in KV
-- are not carried over: they expire there on their own (30-day TTL), and their shoppers start a new cart.
CREATE TABLE `guest_carts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);--> statement-breakpoint
CREATE UNIQUE INDEX `guest_carts_token_unique` ON `guest_carts` (`token`);--> statement-breakpoint
CREATE INDEX `guest_carts_updated_idx` ON `guest_carts` (`updated_at`);--> statement-breakpoint
CREATE TABLE `guest_cart_items` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cart_id` integer NOT NULL,
	`product_id` integer NOT NULL,
	`quantity` integer NOT NULL,
	`added_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`cart_id`) REFERENCES `guest_carts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`product_id`) REFERENCES `products`(`id`) ON UPDATE no action ON DELETE cascade
);--> statement-breakpoint
CREATE UNIQUE INDEX `guest_cart_items_cart_product_unique` ON `guest_cart_items` (`cart_id`,`product_id`);--> statement-breakpoint
-- The per-line-version merge guard was for KV's stale reads; a merge now deletes what it merged in the same batch.
DROP TABLE `guest_cart_merges`;

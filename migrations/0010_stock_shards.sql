-- Issue 25: a hot product's stock can be split over several inventory objects (its shards).
-- How many shards a product's stock is spread over (1 = one object, as before). Set by an admin.
ALTER TABLE `products` ADD `stock_shards` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
-- Each shard's available units, written behind in batches by the shard itself (versioned: an older write never
-- overwrites a newer one); `products.stock` is recomputed as their sum in the same batch.
CREATE TABLE `product_stock_shards` (
	`product_id` integer NOT NULL,
	`shard` integer NOT NULL,
	`available` integer NOT NULL,
	`version` integer NOT NULL,
	PRIMARY KEY(`product_id`, `shard`)
);

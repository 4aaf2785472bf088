-- Issue 22 (the shop console): a per-product low-stock threshold. NULL means the global default (10 units).
ALTER TABLE `products` ADD `low_stock_threshold` integer;
--> statement-breakpoint
-- The low-stock list's second half: products with a threshold of their own that are below it, found as a range of
-- (stock - threshold) < 0, so only those are read. Partial: it holds only products with a threshold of their own.
CREATE INDEX `products_below_own_threshold_idx` ON `products` (`is_active`,stock - low_stock_threshold) WHERE low_stock_threshold is not null;

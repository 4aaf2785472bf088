-- A login's merge marks the anonymous cart as merged (its lines moved) instead of deleting it: a write still in flight
-- with that cart's id then answers 409 instead of recreating the cart behind the login's back, where its line would
-- be lost to the shopper. The row goes with the 30-day purge like any idle cart.
ALTER TABLE `guest_carts` ADD `merged_at` text;--> statement-breakpoint
-- Deleting a product cascades to cart lines: without these, each delete scanned every cart line.
CREATE INDEX `guest_cart_items_product_idx` ON `guest_cart_items` (`product_id`);--> statement-breakpoint
CREATE INDEX `cart_items_product_idx` ON `cart_items` (`product_id`);

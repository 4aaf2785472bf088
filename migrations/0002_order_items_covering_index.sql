DROP INDEX `order_items_order_idx`;--> statement-breakpoint
CREATE INDEX `order_items_order_covering_idx` ON `order_items` (`order_id`,`product_id`,`quantity`,`subtotal_paise`);
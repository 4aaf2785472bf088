-- Event retention: the sweep purges old finished events (and, by ON DELETE CASCADE, their webhook deliveries and
-- email rows; src/features/events/retention.ts). An event's `seq` is 1 + the highest `seq` among its order's (or
-- product's) events; once old events are gone that max would go back, so the purge first records here the highest
-- `seq` it removes of each order or product, and the triggers count from the higher of the two. Sequences then never
-- restart or repeat, whatever was purged.
CREATE TABLE `event_seq_floors` (
	`subject` text NOT NULL,
	`subject_id` integer NOT NULL,
	`seq` integer NOT NULL,
	PRIMARY KEY(`subject`, `subject_id`)
);
--> statement-breakpoint
-- The purge walks old events in (created_at, rowid) order: its cursor needs a text position beside the integer one.
ALTER TABLE `sweep_cursors` ADD `mark` text;
--> statement-breakpoint
-- The triggers of 0008_order_events / 0011_messages, counting from the floor as well (same bodies otherwise).
DROP TRIGGER `events_order_created`;
--> statement-breakpoint
CREATE TRIGGER `events_order_created` AFTER INSERT ON `orders` BEGIN
	INSERT INTO events (id, type, order_id, seq) VALUES ('msg_' || lower(hex(randomblob(16))), 'order.created', NEW.id,
		1 + max(coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0),
			coalesce((SELECT seq FROM event_seq_floors WHERE subject = 'order' AND subject_id = NEW.id), 0)));
END;
--> statement-breakpoint
DROP TRIGGER `events_order_status`;
--> statement-breakpoint
CREATE TRIGGER `events_order_status` AFTER UPDATE OF `status` ON `orders` WHEN OLD.status IS NOT NEW.status BEGIN
	INSERT INTO events (id, type, order_id, seq, detail) VALUES ('msg_' || lower(hex(randomblob(16))), 'order.status_changed', NEW.id,
		1 + max(coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0),
			coalesce((SELECT seq FROM event_seq_floors WHERE subject = 'order' AND subject_id = NEW.id), 0)), NEW.status);
	INSERT INTO events (id, type, order_id, seq) SELECT 'msg_' || lower(hex(randomblob(16))), 'order.cancelled', NEW.id,
		1 + max(coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0),
			coalesce((SELECT seq FROM event_seq_floors WHERE subject = 'order' AND subject_id = NEW.id), 0)) WHERE NEW.status = 'cancelled';
END;
--> statement-breakpoint
DROP TRIGGER `events_order_payment`;
--> statement-breakpoint
CREATE TRIGGER `events_order_payment` AFTER UPDATE OF `payment_status` ON `orders`
	WHEN OLD.payment_status IS NOT NEW.payment_status AND NEW.payment_status IN ('success', 'refunded') BEGIN
	INSERT INTO events (id, type, order_id, seq) VALUES ('msg_' || lower(hex(randomblob(16))),
		CASE NEW.payment_status WHEN 'success' THEN 'order.paid' ELSE 'order.refunded' END, NEW.id,
		1 + max(coalesce((SELECT max(seq) FROM events WHERE order_id = NEW.id), 0),
			coalesce((SELECT seq FROM event_seq_floors WHERE subject = 'order' AND subject_id = NEW.id), 0)));
END;
--> statement-breakpoint
DROP TRIGGER `events_product_low_stock`;
--> statement-breakpoint
CREATE TRIGGER `events_product_low_stock` AFTER UPDATE OF `stock` ON `products`
	WHEN NEW.stock < coalesce(NEW.low_stock_threshold, 10) AND OLD.stock >= coalesce(NEW.low_stock_threshold, 10) AND NEW.is_active = 1 BEGIN
	INSERT INTO events (id, type, product_id, seq) VALUES ('msg_' || lower(hex(randomblob(16))), 'product.low_stock', NEW.id,
		1 + max(coalesce((SELECT max(seq) FROM events WHERE product_id = NEW.id), 0),
			coalesce((SELECT seq FROM event_seq_floors WHERE subject = 'product' AND subject_id = NEW.id), 0)));
END;

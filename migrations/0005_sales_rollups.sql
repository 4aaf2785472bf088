CREATE TABLE `order_daily_counts` (
	`day` text PRIMARY KEY NOT NULL,
	`order_count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `order_status_totals` (
	`status` text NOT NULL,
	`payment_status` text NOT NULL,
	`order_count` integer DEFAULT 0 NOT NULL,
	`total_paise` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`status`, `payment_status`)
);
--> statement-breakpoint
CREATE TABLE `paid_sales_daily` (
	`day` text PRIMARY KEY NOT NULL,
	`order_count` integer NOT NULL,
	`total_paise` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `product_sales` (
	`product_id` integer PRIMARY KEY NOT NULL,
	`units_sold` integer NOT NULL,
	`revenue_paise` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `product_sales_best_idx` ON `product_sales` ("units_sold" desc,`product_id`);
--> statement-breakpoint
-- Backfill from the orders already there; from here on the triggers below keep every rollup exact. Days are the
-- UTC day of creation (`substr(created_at, 1, 10)`); "paid" is payment_status 'success' (see analytics.service.ts).
INSERT INTO `order_status_totals` (status, payment_status, order_count, total_paise)
	SELECT status, payment_status, count(*), coalesce(sum(total_paise), 0) FROM orders GROUP BY status, payment_status;
--> statement-breakpoint
INSERT INTO `order_daily_counts` (day, order_count)
	SELECT substr(created_at, 1, 10), count(*) FROM orders GROUP BY 1;
--> statement-breakpoint
INSERT INTO `paid_sales_daily` (day, order_count, total_paise)
	SELECT substr(created_at, 1, 10), count(*), sum(total_paise) FROM orders WHERE payment_status = 'success' GROUP BY 1;
--> statement-breakpoint
INSERT INTO `product_sales` (product_id, units_sold, revenue_paise)
	SELECT oi.product_id, sum(oi.quantity), sum(oi.subtotal_paise)
	FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE o.payment_status = 'success' GROUP BY oi.product_id;
--> statement-breakpoint
-- An order counts once in order_daily_counts under its day and in order_status_totals under its current
-- (status, payment_status), and, while paid, in paid_sales_daily under its day and with each of its lines in
-- product_sales. Every trigger removes what the old row contributed and adds what the new row contributes, so any
-- change (or a change back) leaves the rollups exact. Rows of the daily tables and of product_sales that fall to zero
-- are deleted: "no row" means "nothing that day" or "nothing sold".
CREATE TRIGGER `sales_rollups_order_insert` AFTER INSERT ON `orders` BEGIN
	INSERT INTO order_daily_counts (day, order_count) VALUES (substr(new.created_at, 1, 10), 1)
		ON CONFLICT (day) DO UPDATE SET order_count = order_count + 1;
	INSERT INTO order_status_totals (status, payment_status, order_count, total_paise)
		VALUES (new.status, new.payment_status, 1, new.total_paise)
		ON CONFLICT (status, payment_status) DO UPDATE
		SET order_count = order_count + 1, total_paise = total_paise + excluded.total_paise;
	INSERT INTO paid_sales_daily (day, order_count, total_paise)
		SELECT substr(new.created_at, 1, 10), 1, new.total_paise WHERE new.payment_status = 'success'
		ON CONFLICT (day) DO UPDATE
		SET order_count = order_count + 1, total_paise = total_paise + excluded.total_paise;
END;
--> statement-breakpoint
CREATE TRIGGER `sales_rollups_order_update` AFTER UPDATE OF status, payment_status, total_paise, created_at ON `orders`
WHEN old.status IS NOT new.status OR old.payment_status IS NOT new.payment_status
	OR old.total_paise IS NOT new.total_paise OR old.created_at IS NOT new.created_at
BEGIN
	UPDATE order_status_totals SET order_count = order_count - 1, total_paise = total_paise - old.total_paise
		WHERE status = old.status AND payment_status = old.payment_status;
	INSERT INTO order_status_totals (status, payment_status, order_count, total_paise)
		VALUES (new.status, new.payment_status, 1, new.total_paise)
		ON CONFLICT (status, payment_status) DO UPDATE
		SET order_count = order_count + 1, total_paise = total_paise + excluded.total_paise;
	UPDATE paid_sales_daily SET order_count = order_count - 1, total_paise = total_paise - old.total_paise
		WHERE old.payment_status = 'success' AND day = substr(old.created_at, 1, 10);
	DELETE FROM paid_sales_daily WHERE old.payment_status = 'success' AND day = substr(old.created_at, 1, 10) AND order_count = 0;
	INSERT INTO paid_sales_daily (day, order_count, total_paise)
		SELECT substr(new.created_at, 1, 10), 1, new.total_paise WHERE new.payment_status = 'success'
		ON CONFLICT (day) DO UPDATE
		SET order_count = order_count + 1, total_paise = total_paise + excluded.total_paise;
	-- lines count as sold only while the order is paid: move them in or out when that changes
	INSERT INTO product_sales (product_id, units_sold, revenue_paise)
		SELECT product_id,
			sum(quantity) * (CASE WHEN new.payment_status = 'success' THEN 1 ELSE -1 END),
			sum(subtotal_paise) * (CASE WHEN new.payment_status = 'success' THEN 1 ELSE -1 END)
		FROM order_items
		WHERE order_id = new.id AND (old.payment_status = 'success') <> (new.payment_status = 'success')
		GROUP BY product_id
		ON CONFLICT (product_id) DO UPDATE
		SET units_sold = units_sold + excluded.units_sold, revenue_paise = revenue_paise + excluded.revenue_paise;
	DELETE FROM product_sales
		WHERE old.payment_status = 'success' AND new.payment_status <> 'success' AND units_sold = 0
		AND product_id IN (SELECT product_id FROM order_items WHERE order_id = new.id);
END;
--> statement-breakpoint
-- Only an order whose creation day changes moves between order_daily_counts rows (status changes leave them alone).
CREATE TRIGGER `sales_rollups_order_day` AFTER UPDATE OF created_at ON `orders`
WHEN substr(old.created_at, 1, 10) IS NOT substr(new.created_at, 1, 10)
BEGIN
	UPDATE order_daily_counts SET order_count = order_count - 1 WHERE day = substr(old.created_at, 1, 10);
	DELETE FROM order_daily_counts WHERE day = substr(old.created_at, 1, 10) AND order_count = 0;
	INSERT INTO order_daily_counts (day, order_count) VALUES (substr(new.created_at, 1, 10), 1)
		ON CONFLICT (day) DO UPDATE SET order_count = order_count + 1;
END;
--> statement-breakpoint
-- BEFORE, not AFTER: the order's lines are deleted by ON DELETE CASCADE with the order, and by then their own trigger
-- finds no order to ask whether they were paid; so the order settles its lines while they are still there.
CREATE TRIGGER `sales_rollups_order_delete` BEFORE DELETE ON `orders` BEGIN
	UPDATE order_daily_counts SET order_count = order_count - 1 WHERE day = substr(old.created_at, 1, 10);
	DELETE FROM order_daily_counts WHERE day = substr(old.created_at, 1, 10) AND order_count = 0;
	UPDATE order_status_totals SET order_count = order_count - 1, total_paise = total_paise - old.total_paise
		WHERE status = old.status AND payment_status = old.payment_status;
	UPDATE paid_sales_daily SET order_count = order_count - 1, total_paise = total_paise - old.total_paise
		WHERE old.payment_status = 'success' AND day = substr(old.created_at, 1, 10);
	DELETE FROM paid_sales_daily WHERE old.payment_status = 'success' AND day = substr(old.created_at, 1, 10) AND order_count = 0;
	UPDATE product_sales
		SET units_sold = units_sold - (SELECT sum(quantity) FROM order_items WHERE order_id = old.id AND product_id = product_sales.product_id),
			revenue_paise = revenue_paise - (SELECT sum(subtotal_paise) FROM order_items WHERE order_id = old.id AND product_id = product_sales.product_id)
		WHERE old.payment_status = 'success' AND product_id IN (SELECT product_id FROM order_items WHERE order_id = old.id);
	DELETE FROM product_sales
		WHERE old.payment_status = 'success' AND units_sold = 0 AND product_id IN (SELECT product_id FROM order_items WHERE order_id = old.id);
END;
--> statement-breakpoint
-- Lines count while their order is paid (inserted after a paid order, deleted or changed on their own).
CREATE TRIGGER `sales_rollups_item_insert` AFTER INSERT ON `order_items`
WHEN (SELECT payment_status FROM orders WHERE id = new.order_id) = 'success'
BEGIN
	INSERT INTO product_sales (product_id, units_sold, revenue_paise) VALUES (new.product_id, new.quantity, new.subtotal_paise)
		ON CONFLICT (product_id) DO UPDATE
		SET units_sold = units_sold + excluded.units_sold, revenue_paise = revenue_paise + excluded.revenue_paise;
END;
--> statement-breakpoint
CREATE TRIGGER `sales_rollups_item_delete` AFTER DELETE ON `order_items`
WHEN (SELECT payment_status FROM orders WHERE id = old.order_id) = 'success'
BEGIN
	UPDATE product_sales SET units_sold = units_sold - old.quantity, revenue_paise = revenue_paise - old.subtotal_paise
		WHERE product_id = old.product_id;
	DELETE FROM product_sales WHERE product_id = old.product_id AND units_sold = 0;
END;
--> statement-breakpoint
CREATE TRIGGER `sales_rollups_item_update` AFTER UPDATE OF order_id, product_id, quantity, subtotal_paise ON `order_items` BEGIN
	UPDATE product_sales SET units_sold = units_sold - old.quantity, revenue_paise = revenue_paise - old.subtotal_paise
		WHERE product_id = old.product_id AND (SELECT payment_status FROM orders WHERE id = old.order_id) = 'success';
	INSERT INTO product_sales (product_id, units_sold, revenue_paise)
		SELECT new.product_id, new.quantity, new.subtotal_paise WHERE (SELECT payment_status FROM orders WHERE id = new.order_id) = 'success'
		ON CONFLICT (product_id) DO UPDATE
		SET units_sold = units_sold + excluded.units_sold, revenue_paise = revenue_paise + excluded.revenue_paise;
	DELETE FROM product_sales WHERE product_id = old.product_id AND units_sold = 0;
END;

-- Maintained product counts, so a list page's `count` costs one row instead of a count over the catalogue.
-- One row per scope: every product / active products, optionally in stock, optionally of one category (the list's
-- `category` filter is the product's own category). Triggers keep them exact: they run inside the statement that
-- changes a product, so no write path can forget them, and a stock change only touches them when it crosses zero.
-- (One statement per scope: D1 limits compound SELECTs to a few terms.)
CREATE TABLE `catalog_counts` (
	`scope` text PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
CREATE TRIGGER `catalog_counts_ai` AFTER INSERT ON `products` BEGIN
	INSERT INTO catalog_counts (scope, n) SELECT 'all', 1 WHERE 1 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'all_in_stock', 1 WHERE new.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_all:' || new.category_id, 1 WHERE 1 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_all_in_stock:' || new.category_id, 1 WHERE new.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'active', 1 WHERE new.is_active ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'active_in_stock', 1 WHERE new.is_active AND new.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category:' || new.category_id, 1 WHERE new.is_active ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_in_stock:' || new.category_id, 1 WHERE new.is_active AND new.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
END;
--> statement-breakpoint
CREATE TRIGGER `catalog_counts_ad` AFTER DELETE ON `products` BEGIN
	INSERT INTO catalog_counts (scope, n) SELECT 'all', -1 WHERE 1 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'all_in_stock', -1 WHERE old.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_all:' || old.category_id, -1 WHERE 1 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_all_in_stock:' || old.category_id, -1 WHERE old.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'active', -1 WHERE old.is_active ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'active_in_stock', -1 WHERE old.is_active AND old.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category:' || old.category_id, -1 WHERE old.is_active ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_in_stock:' || old.category_id, -1 WHERE old.is_active AND old.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
END;
--> statement-breakpoint
CREATE TRIGGER `catalog_counts_au` AFTER UPDATE OF is_active, stock, category_id ON `products`
WHEN old.is_active IS NOT new.is_active OR (old.stock > 0) IS NOT (new.stock > 0) OR old.category_id IS NOT new.category_id
BEGIN
	INSERT INTO catalog_counts (scope, n) SELECT 'all', -1 WHERE 1 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'all_in_stock', -1 WHERE old.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_all:' || old.category_id, -1 WHERE 1 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_all_in_stock:' || old.category_id, -1 WHERE old.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'active', -1 WHERE old.is_active ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'active_in_stock', -1 WHERE old.is_active AND old.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category:' || old.category_id, -1 WHERE old.is_active ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_in_stock:' || old.category_id, -1 WHERE old.is_active AND old.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'all', 1 WHERE 1 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'all_in_stock', 1 WHERE new.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_all:' || new.category_id, 1 WHERE 1 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_all_in_stock:' || new.category_id, 1 WHERE new.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'active', 1 WHERE new.is_active ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'active_in_stock', 1 WHERE new.is_active AND new.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category:' || new.category_id, 1 WHERE new.is_active ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
	INSERT INTO catalog_counts (scope, n) SELECT 'category_in_stock:' || new.category_id, 1 WHERE new.is_active AND new.stock > 0 ON CONFLICT(scope) DO UPDATE SET n = n + excluded.n;
END;
--> statement-breakpoint
INSERT INTO catalog_counts (scope, n) SELECT 'all', count(*) FROM products WHERE 1;--> statement-breakpoint
INSERT INTO catalog_counts (scope, n) SELECT 'all_in_stock', count(*) FROM products WHERE stock > 0;--> statement-breakpoint
INSERT INTO catalog_counts (scope, n) SELECT 'category_all:' || category_id, count(*) FROM products WHERE 1 GROUP BY category_id;--> statement-breakpoint
INSERT INTO catalog_counts (scope, n) SELECT 'category_all_in_stock:' || category_id, count(*) FROM products WHERE stock > 0 GROUP BY category_id;--> statement-breakpoint
INSERT INTO catalog_counts (scope, n) SELECT 'active', count(*) FROM products WHERE is_active;--> statement-breakpoint
INSERT INTO catalog_counts (scope, n) SELECT 'active_in_stock', count(*) FROM products WHERE is_active AND stock > 0;--> statement-breakpoint
INSERT INTO catalog_counts (scope, n) SELECT 'category:' || category_id, count(*) FROM products WHERE is_active GROUP BY category_id;--> statement-breakpoint
INSERT INTO catalog_counts (scope, n) SELECT 'category_in_stock:' || category_id, count(*) FROM products WHERE is_active AND stock > 0 GROUP BY category_id;

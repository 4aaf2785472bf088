-- Full-text search over product name and description (FTS5, trigram tokenizer so that any substring of
-- three or more characters matches, case-insensitively, like the original's icontains search).
-- External-content table: the text lives once, in products; triggers keep the index in sync.
CREATE VIRTUAL TABLE `products_fts` USING fts5(
	name, description, content='products', content_rowid='id', tokenize='trigram'
);
--> statement-breakpoint
CREATE TRIGGER `products_fts_ai` AFTER INSERT ON `products` BEGIN
	INSERT INTO products_fts(rowid, name, description) VALUES (new.id, new.name, coalesce(new.description, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_ad` AFTER DELETE ON `products` BEGIN
	INSERT INTO products_fts(products_fts, rowid, name, description) VALUES ('delete', old.id, old.name, coalesce(old.description, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_au` AFTER UPDATE OF name, description ON `products` BEGIN
	INSERT INTO products_fts(products_fts, rowid, name, description) VALUES ('delete', old.id, old.name, coalesce(old.description, ''));
	INSERT INTO products_fts(rowid, name, description) VALUES (new.id, new.name, coalesce(new.description, ''));
END;

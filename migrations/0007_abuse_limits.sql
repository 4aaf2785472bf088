-- Issue 28. Credentials changes end sessions and device tokens in the same write, whatever makes them (the API,
-- scripts/create-admin.mjs, `wrangler d1 execute`, a console): the trigger runs inside the UPDATE statement itself.
-- `credentials_version` is stamped into device tokens (src/features/auth/device-tokens.ts): bumping it revokes them.
-- `keep_session_id` lets change-password keep the caller's own session: it is set by that same UPDATE and cleared
-- by the trigger, so a later change made by anything else ends every session.
ALTER TABLE `users` ADD `credentials_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `keep_session_id` text;--> statement-breakpoint
CREATE TRIGGER `users_credentials_changed` AFTER UPDATE OF `password_hash`, `is_staff` ON `users`
WHEN old.`password_hash` IS NOT new.`password_hash` OR old.`is_staff` IS NOT new.`is_staff`
BEGIN
  UPDATE `sessions` SET `revoked_at` = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE `user_id` = new.`id` AND `revoked_at` IS NULL AND `id` IS NOT new.`keep_session_id`;
  UPDATE `users` SET `credentials_version` = `credentials_version` + 1, `keep_session_id` = NULL WHERE `id` = new.`id`;
END;--> statement-breakpoint
-- Per-product purchase limit: units of the product in one customer's live orders (every status but cancelled) plus
-- the new order; NULL = no limit.
ALTER TABLE `products` ADD `max_per_customer` integer;

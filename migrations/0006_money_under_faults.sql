-- issue 27: money and stock stay right when a request dies halfway.
-- A refund we owe is written in the same batch as the status change that makes us owe it (payments.status
-- 'refund_pending'); the request, or the scheduled sweep after `refund_next_at`, settles it with Razorpay's refund
-- idempotency key. `refund_failed` after the retries: visible to admins on the order, never silently dropped.
ALTER TABLE `payments` ADD `refund_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `refund_next_at` integer;--> statement-breakpoint
ALTER TABLE `payments` ADD `refund_error` text;--> statement-breakpoint
CREATE INDEX `payments_refund_due_idx` ON `payments` (`refund_next_at`) WHERE status = 'refund_pending';--> statement-breakpoint
-- The order an Idempotency-Key made, written in the order's own batch: a retry after the first request died
-- replays that order instead of finding an empty cart or making a second one.
ALTER TABLE `idempotency_keys` ADD `resource_id` integer;--> statement-breakpoint
-- Anonymous cart lines already merged into a user's cart (per line version), written in the login's batch: a retried
-- login, or a stale KV listing that still shows a merged line, adds nothing twice. Purged after 30 days by the sweep.
CREATE TABLE `guest_cart_merges` (
	`cart_id` text NOT NULL,
	`product_id` integer NOT NULL,
	`version` text NOT NULL,
	`merged_at` integer NOT NULL,
	PRIMARY KEY(`cart_id`, `product_id`, `version`)
);--> statement-breakpoint
CREATE INDEX `guest_cart_merges_merged_idx` ON `guest_cart_merges` (`merged_at`);

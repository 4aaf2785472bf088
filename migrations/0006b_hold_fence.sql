-- issue 27: a hold's release and its order's commit exclude each other in D1. An inventory object's alarm releases
-- an expired hold only by inserting its key here, in one statement that first checks no order has it; an order
-- batch writes its order only while its hold key is absent here. Whichever reaches D1 first wins, so an order can
-- never commit after its units went back on sale (a D1 batch can run late). Purged after a day by the sweep.
CREATE TABLE `released_holds` (
	`hold_key` text PRIMARY KEY NOT NULL,
	`released_at` integer NOT NULL
);--> statement-breakpoint
CREATE INDEX `released_holds_released_idx` ON `released_holds` (`released_at`);

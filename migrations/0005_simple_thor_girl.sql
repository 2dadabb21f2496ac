ALTER TABLE `outbox` ADD `free_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `transfers` ADD `reserved_at` integer;--> statement-breakpoint
ALTER TABLE `transfers` ADD `at_bank_at` integer;
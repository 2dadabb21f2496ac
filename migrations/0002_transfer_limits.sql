ALTER TABLE `transfers` ADD `approved_at` integer;--> statement-breakpoint
ALTER TABLE `transfers` ADD `sent_at` integer;--> statement-breakpoint
CREATE INDEX `transfers_sent` ON `transfers` (`sent_at`);
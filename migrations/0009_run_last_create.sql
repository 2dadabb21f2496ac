ALTER TABLE `scheduler_runs` ADD `last_create_at` integer;--> statement-breakpoint
ALTER TABLE `scheduler_runs` ADD `last_create_outcome` text;
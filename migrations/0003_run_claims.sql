ALTER TABLE `scheduler_runs` ADD `claimed_by` text;--> statement-breakpoint
ALTER TABLE `scheduler_runs` ADD `claimed_until` integer;
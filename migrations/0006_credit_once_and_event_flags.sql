ALTER TABLE `events` ADD `flag` text;--> statement-breakpoint
ALTER TABLE `events` ADD `ref_id` text;--> statement-breakpoint
CREATE INDEX `events_ref` ON `events` (`ref_id`);--> statement-breakpoint
CREATE INDEX `events_flag` ON `events` (`flag`,`received_at`);--> statement-breakpoint
ALTER TABLE `invoices` ADD `credited_amount` integer;--> statement-breakpoint
UPDATE `invoices` SET `credited_amount` = `amount` WHERE `status` = 'credited';

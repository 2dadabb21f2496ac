CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`body` text NOT NULL,
	`reason` text NOT NULL,
	`receive_count` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_message` ON `dead_letters` (`queue`,`message_id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`subscription` text NOT NULL,
	`type` text NOT NULL,
	`subject_id` text,
	`outcome` text NOT NULL,
	`payload` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_subject` ON `events` (`subject_id`);--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text,
	`stark_id` text,
	`amount` integer NOT NULL,
	`name` text NOT NULL,
	`tax_id` text NOT NULL,
	`status` text NOT NULL,
	`fee` integer,
	`credited_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `scheduler_runs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_stark_id_unique` ON `invoices` (`stark_id`);--> statement-breakpoint
CREATE INDEX `invoices_run` ON `invoices` (`run_id`);--> statement-breakpoint
CREATE INDEX `invoices_status` ON `invoices` (`status`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`ref_id` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_until` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbox_due` ON `outbox` (`kind`,`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `queue_dedup` (
	`queue` text NOT NULL,
	`dedup_id` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `queue_dedup_key` ON `queue_dedup` (`queue`,`dedup_id`);--> statement-breakpoint
CREATE TABLE `queue_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`body` text NOT NULL,
	`group_id` text,
	`sent_at` integer NOT NULL,
	`visible_at` integer NOT NULL,
	`receive_count` integer DEFAULT 0 NOT NULL,
	`receipt` text
);
--> statement-breakpoint
CREATE INDEX `queue_messages_visible` ON `queue_messages` (`queue`,`visible_at`);--> statement-breakpoint
CREATE TABLE `scheduler_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`slot` text NOT NULL,
	`status` text NOT NULL,
	`invoice_count` integer NOT NULL,
	`planned_at` integer NOT NULL,
	`issued_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scheduler_runs_slot_unique` ON `scheduler_runs` (`slot`);--> statement-breakpoint
CREATE TABLE `transfers` (
	`id` text PRIMARY KEY NOT NULL,
	`invoice_stark_id` text NOT NULL,
	`event_id` text NOT NULL,
	`amount` integer NOT NULL,
	`status` text NOT NULL,
	`stark_id` text,
	`bank_status` text,
	`request` text NOT NULL,
	`reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `transfers_invoice_stark_id_unique` ON `transfers` (`invoice_stark_id`);--> statement-breakpoint
CREATE INDEX `transfers_status` ON `transfers` (`status`);
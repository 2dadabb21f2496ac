CREATE TABLE `forwards` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`shape` text NOT NULL,
	`body` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`first_attempt_at` integer,
	`last_status_code` integer,
	`last_error` text,
	`latency_ms` integer,
	`delivered_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `forwards_status` ON `forwards` (`status`,`created_at`);
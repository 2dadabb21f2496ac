DROP INDEX `transfers_sent`;--> statement-breakpoint
CREATE INDEX `transfers_sent_amount` ON `transfers` (`sent_at`,`amount`);
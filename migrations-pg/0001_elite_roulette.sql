ALTER TABLE "outbox" ADD COLUMN "free_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "reserved_at" bigint;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "at_bank_at" bigint;
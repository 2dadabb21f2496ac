ALTER TABLE "scheduler_runs" ADD COLUMN "claimed_by" text;--> statement-breakpoint
ALTER TABLE "scheduler_runs" ADD COLUMN "claimed_until" bigint;--> statement-breakpoint
ALTER TABLE "scheduler_runs" ADD COLUMN "claim_token" text;
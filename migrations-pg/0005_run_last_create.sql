ALTER TABLE "scheduler_runs" ADD COLUMN "last_create_at" bigint;--> statement-breakpoint
ALTER TABLE "scheduler_runs" ADD COLUMN "last_create_outcome" text;
ALTER TABLE "events" ADD COLUMN "flag" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "ref_id" text;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "credited_amount" bigint;--> statement-breakpoint
CREATE INDEX "events_ref" ON "events" USING btree ("ref_id");--> statement-breakpoint
CREATE INDEX "events_flag" ON "events" USING btree ("flag","received_at");--> statement-breakpoint
UPDATE "invoices" SET "credited_amount" = "amount" WHERE "status" = 'credited';

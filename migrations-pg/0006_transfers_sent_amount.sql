DROP INDEX "transfers_sent";--> statement-breakpoint
CREATE INDEX "transfers_sent_amount" ON "transfers" USING btree ("sent_at","amount");
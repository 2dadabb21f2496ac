CREATE TABLE "dead_letters" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "dead_letters_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"queue" text NOT NULL,
	"message_id" text NOT NULL,
	"body" text NOT NULL,
	"reason" text NOT NULL,
	"receive_count" integer NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"subscription" text NOT NULL,
	"type" text NOT NULL,
	"subject_id" text,
	"outcome" text NOT NULL,
	"payload" text NOT NULL,
	"received_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "forwards" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"shape" text NOT NULL,
	"body" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"first_attempt_at" bigint,
	"last_status_code" integer,
	"last_error" text,
	"latency_ms" integer,
	"delivered_at" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" text PRIMARY KEY NOT NULL,
	"run_id" text,
	"stark_id" text,
	"amount" bigint NOT NULL,
	"name" text NOT NULL,
	"tax_id" text NOT NULL,
	"status" text NOT NULL,
	"fee" bigint,
	"credited_at" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "invoices_stark_id_unique" UNIQUE("stark_id")
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"ref_id" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"lease_until" bigint,
	"last_error" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scheduler_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"slot" text NOT NULL,
	"status" text NOT NULL,
	"invoice_count" integer NOT NULL,
	"planned_at" bigint NOT NULL,
	"issued_at" bigint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	CONSTRAINT "scheduler_runs_slot_unique" UNIQUE("slot")
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" text PRIMARY KEY NOT NULL,
	"invoice_stark_id" text NOT NULL,
	"event_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"status" text NOT NULL,
	"stark_id" text,
	"bank_status" text,
	"request" text NOT NULL,
	"reason" text,
	"approved_at" bigint,
	"sent_at" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "transfers_invoice_stark_id_unique" UNIQUE("invoice_stark_id")
);
--> statement-breakpoint
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_run_id_scheduler_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."scheduler_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "dead_letters_message" ON "dead_letters" USING btree ("queue","message_id");--> statement-breakpoint
CREATE INDEX "events_subject" ON "events" USING btree ("subject_id");--> statement-breakpoint
CREATE INDEX "forwards_status" ON "forwards" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "invoices_run" ON "invoices" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "invoices_status" ON "invoices" USING btree ("status");--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("kind","status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "outbox_ref" ON "outbox" USING btree ("kind","ref_id");--> statement-breakpoint
CREATE INDEX "transfers_status" ON "transfers" USING btree ("status");--> statement-breakpoint
CREATE INDEX "transfers_sent" ON "transfers" USING btree ("sent_at");--> statement-breakpoint
CREATE INDEX "transfers_stark" ON "transfers" USING btree ("stark_id");
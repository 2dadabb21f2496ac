import { bigint, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'

// The ledger's tables on PostgreSQL, the same as on SQLite (src/adapters/ledger/sqlite/schema.ts) but for the
// embedded queue: with PostgreSQL the queues are on SQS. Times are bigint milliseconds since the epoch;
// money is bigint cents, read as numbers (safe up to 2^53).

const ms = (name: string) => bigint(name, { mode: 'number' })
const cents = (name: string) => bigint(name, { mode: 'number' })

export const schedulerRuns = pgTable('scheduler_runs', {
  id: text('id').primaryKey(),
  /** One run per schedule slot: a second process or an overlapping tick finds it taken. */
  slot: text('slot').notNull().unique(),
  status: text('status', { enum: ['planned', 'issued', 'failed'] }).notNull(),
  invoiceCount: integer('invoice_count').notNull(),
  plannedAt: ms('planned_at').notNull(),
  issuedAt: ms('issued_at'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  /** The scheduler issuing this run now (`host:pid:token`) and until when its claim holds. */
  claimedBy: text('claimed_by'),
  claimedUntil: ms('claimed_until'),
  /** The claim's own token: issuing checks it before each Stark Bank create (see run-claims.ts). */
  claimToken: text('claim_token'),
  /**
   * The last create attempt at Stark Bank: when it ended and how (`unknown` is written before each
   * create call, so a process that dies mid-call leaves it). A resume waits out the list lag after
   * `unknown` before creating again (domain/invoice-resume.ts).
   */
  lastCreateAt: ms('last_create_at'),
  lastCreateOutcome: text('last_create_outcome', { enum: ['unknown', 'refused'] }),
})

export const invoices = pgTable(
  'invoices',
  {
    id: text('id').primaryKey(),
    runId: text('run_id').references(() => schedulerRuns.id),
    starkId: text('stark_id').unique(),
    amount: cents('amount').notNull(),
    name: text('name').notNull(),
    taxId: text('tax_id').notNull(),
    status: text('status', { enum: ['planned', 'issued', 'credited'] }).notNull(),
    fee: cents('fee'),
    /** What the first credit paid (the planned amount plus any fine and interest); later credits change nothing. */
    creditedAmount: cents('credited_amount'),
    creditedAt: ms('credited_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('invoices_run').on(t.runId), index('invoices_status').on(t.status)],
)

/** The inbox: one row per provider event id, whatever the event was. */
export const events = pgTable(
  'events',
  {
    id: text('id').primaryKey(),
    source: text('source', { enum: ['starkbank', 'stripe'] }).notNull(),
    subscription: text('subscription').notNull(),
    type: text('type').notNull(),
    subjectId: text('subject_id'),
    outcome: text('outcome').notNull(),
    /**
     * `anomaly`: recorded and changed nothing (a later credit of an invoice); `unmatched`: a transfer
     * event for a transfer not created yet, applied when it is.
     */
    flag: text('flag', { enum: ['anomaly', 'unmatched'] }),
    /** A transfer event's externalId (our transfer id), to find it when the transfer is created. */
    refId: text('ref_id'),
    payload: text('payload').notNull(),
    receivedAt: ms('received_at').notNull(),
  },
  (t) => [
    index('events_subject').on(t.subjectId),
    index('events_ref').on(t.refId),
    index('events_flag').on(t.flag, t.receivedAt),
  ],
)

export const transfers = pgTable(
  'transfers',
  {
    /** Also the Stark Bank externalId. */
    id: text('id').primaryKey(),
    invoiceStarkId: text('invoice_stark_id').notNull().unique(),
    eventId: text('event_id').notNull(),
    amount: cents('amount').notNull(),
    status: text('status', { enum: ['pending', 'held', 'created', 'skipped', 'dead'] }).notNull(),
    starkId: text('stark_id'),
    bankStatus: text('bank_status'),
    /** The destination and tags as sent, so a retry sends the same request after a config change. */
    request: text('request').notNull(),
    reason: text('reason'),
    /** An operator released this transfer past the amount limits. */
    approvedAt: ms('approved_at'),
    /** When Stark Bank accepted it; the daily limit counts transfers by this time. */
    sentAt: ms('sent_at'),
    /** See the SQLite schema: the daily limit's reservation, and when the transfer may first have reached Stark Bank. */
    reservedAt: ms('reserved_at'),
    atBankAt: ms('at_bank_at'),
    /**
     * When its retries passed the limit with the outcome still unknown: it may exist at Stark Bank, so it
     * is never dead for that; it stays pending, retried, and counted by paybridge_transfers_unresolved.
     */
    unresolvedAt: ms('unresolved_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    index('transfers_status').on(t.status),
    // With the amount, today's sent total (every relay claim under a daily limit) reads the index only.
    index('transfers_sent_amount').on(t.sentAt, t.amount),
    index('transfers_stark').on(t.starkId),
  ],
)

export const outbox = pgTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['transfer', 'forward'] }).notNull(),
    refId: text('ref_id').notNull(),
    status: text('status', { enum: ['pending', 'in_flight', 'held', 'done', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    freeAttempts: integer('free_attempts').notNull().default(0),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    leaseUntil: ms('lease_until'),
    lastError: text('last_error'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('outbox_due').on(t.kind, t.status, t.nextAttemptAt), index('outbox_ref').on(t.kind, t.refId)],
)

/** Messages paybridge could not use, kept with the reason; never silently dropped. */
export const deadLetters = pgTable(
  'dead_letters',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    queue: text('queue').notNull(),
    messageId: text('message_id').notNull(),
    body: text('body').notNull(),
    reason: text('reason').notNull(),
    receiveCount: integer('receive_count').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [uniqueIndex('dead_letters_message').on(t.queue, t.messageId)],
)

/**
 * Stripe events forwarded downstream, one row per Stripe event id (the inbox row in `events` shares
 * the id). `body` is the exact text POSTed on every attempt.
 */
export const forwards = pgTable(
  'forwards',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    shape: text('shape', { enum: ['raw', 'eventbridge', 'sns'] }).notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Start of the retry window; cleared by a replay. */
    firstAttemptAt: ms('first_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    latencyMs: integer('latency_ms'),
    deliveredAt: ms('delivered_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('forwards_status').on(t.status, t.createdAt)],
)

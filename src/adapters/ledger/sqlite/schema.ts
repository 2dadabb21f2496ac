import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

// Times are integer milliseconds since the epoch; money is integer cents.

export const schedulerRuns = sqliteTable('scheduler_runs', {
  id: text('id').primaryKey(),
  /** One run per schedule slot: a second process or an overlapping tick finds it taken. */
  slot: text('slot').notNull().unique(),
  status: text('status', { enum: ['planned', 'issued', 'failed'] }).notNull(),
  invoiceCount: integer('invoice_count').notNull(),
  plannedAt: integer('planned_at').notNull(),
  issuedAt: integer('issued_at'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  /** The scheduler issuing this run now (`host:pid:token`) and until when its claim holds. */
  claimedBy: text('claimed_by'),
  claimedUntil: integer('claimed_until'),
  /** The claim's own token: issuing checks it before each Stark Bank create (see run-claims.ts). */
  claimToken: text('claim_token'),
  /**
   * The last create attempt at Stark Bank: when it ended and how (`unknown` is written before each
   * create call, so a process that dies mid-call leaves it). A resume waits out the list lag after
   * `unknown` before creating again (domain/invoice-resume.ts).
   */
  lastCreateAt: integer('last_create_at'),
  lastCreateOutcome: text('last_create_outcome', { enum: ['unknown', 'refused'] }),
})

export const invoices = sqliteTable(
  'invoices',
  {
    id: text('id').primaryKey(),
    runId: text('run_id').references(() => schedulerRuns.id),
    starkId: text('stark_id').unique(),
    amount: integer('amount').notNull(),
    name: text('name').notNull(),
    taxId: text('tax_id').notNull(),
    status: text('status', { enum: ['planned', 'issued', 'credited'] }).notNull(),
    fee: integer('fee'),
    /** What the first credit paid (the planned amount plus any fine and interest); later credits change nothing. */
    creditedAmount: integer('credited_amount'),
    creditedAt: integer('credited_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('invoices_run').on(t.runId), index('invoices_status').on(t.status)],
)

/** The inbox: one row per provider event id, whatever the event was. */
export const events = sqliteTable(
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
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    index('events_subject').on(t.subjectId),
    index('events_ref').on(t.refId),
    index('events_flag').on(t.flag, t.receivedAt),
  ],
)

export const transfers = sqliteTable(
  'transfers',
  {
    /** Also the Stark Bank externalId. */
    id: text('id').primaryKey(),
    invoiceStarkId: text('invoice_stark_id').notNull().unique(),
    eventId: text('event_id').notNull(),
    amount: integer('amount').notNull(),
    status: text('status', { enum: ['pending', 'held', 'created', 'skipped', 'dead'] }).notNull(),
    starkId: text('stark_id'),
    bankStatus: text('bank_status'),
    /** The destination and tags as sent, so a retry sends the same request after a config change. */
    request: text('request').notNull(),
    reason: text('reason'),
    /** An operator released this transfer past the amount limits. */
    approvedAt: integer('approved_at'),
    /** When Stark Bank accepted it; the daily limit counts transfers by this time. */
    sentAt: integer('sent_at'),
    /**
     * When a relay first claimed it to send: from then its amount counts against the daily limit
     * (until it ends dead), so relays claiming at once never pass the limit together.
     */
    reservedAt: integer('reserved_at'),
    /**
     * When the transfer may first have reached Stark Bank: a send whose outcome was unknown (timeout,
     * 5xx, a batch answer without it) or a refusal of its externalId. From then on it is never dead: a
     * later refusal flags it unresolved, and it is looked up before every send.
     */
    atBankAt: integer('at_bank_at'),
    /**
     * When its retries passed the limit with the outcome still unknown: it may exist at Stark Bank, so it
     * is never dead for that; it stays pending, retried, and counted by paybridge_transfers_unresolved.
     */
    unresolvedAt: integer('unresolved_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('transfers_status').on(t.status),
    // With the amount, today's sent total (every relay claim under a daily limit) reads the index only.
    index('transfers_sent_amount').on(t.sentAt, t.amount),
    // Stark Bank's transfer events name the transfer by its Stark Bank id.
    index('transfers_stark').on(t.starkId),
  ],
)

export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['transfer', 'forward'] }).notNull(),
    refId: text('ref_id').notNull(),
    status: text('status', { enum: ['pending', 'in_flight', 'held', 'done', 'dead'] }).notNull(),
    /** Claims so far; never decreases, so the latest claim's number fences its outcome writes. */
    attempts: integer('attempts').notNull().default(0),
    /** Claims that do not count toward the retry limit (released by the relay's circuit, held, before a replay). */
    freeAttempts: integer('free_attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    leaseUntil: integer('lease_until'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('outbox_due').on(t.kind, t.status, t.nextAttemptAt)],
)

/** Messages paybridge could not use, kept with the reason; never silently dropped. */
export const deadLetters = sqliteTable(
  'dead_letters',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    queue: text('queue').notNull(),
    messageId: text('message_id').notNull(),
    body: text('body').notNull(),
    reason: text('reason').notNull(),
    receiveCount: integer('receive_count').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('dead_letters_message').on(t.queue, t.messageId)],
)

/** The embedded queue (used when no SQS is configured). */
export const queueMessages = sqliteTable(
  'queue_messages',
  {
    id: text('id').primaryKey(),
    queue: text('queue').notNull(),
    body: text('body').notNull(),
    groupId: text('group_id'),
    sentAt: integer('sent_at').notNull(),
    visibleAt: integer('visible_at').notNull(),
    receiveCount: integer('receive_count').notNull().default(0),
    receipt: text('receipt'),
  },
  (t) => [index('queue_messages_visible').on(t.queue, t.visibleAt)],
)

/** Deduplication ids seen by the embedded queue, kept for the dedup window (like SQS FIFO's 5 minutes). */
export const queueDedup = sqliteTable(
  'queue_dedup',
  {
    queue: text('queue').notNull(),
    dedupId: text('dedup_id').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [uniqueIndex('queue_dedup_key').on(t.queue, t.dedupId)],
)

/**
 * Stripe events forwarded downstream, one row per Stripe event id (the inbox row in `events` shares
 * the id). `body` is the exact text POSTed on every attempt: the downstream signs nothing but checks
 * our `Stripe-Signature` over these bytes.
 */
export const forwards = sqliteTable(
  'forwards',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    shape: text('shape', { enum: ['raw', 'eventbridge', 'sns'] }).notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Start of the retry window; cleared by a replay. */
    firstAttemptAt: integer('first_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    latencyMs: integer('latency_ms'),
    deliveredAt: integer('delivered_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('forwards_status').on(t.status, t.createdAt)],
)

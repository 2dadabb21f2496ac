import { shownTime } from '../../../domain/ledger-time.ts'
import type { TraceStep } from '../../../ports/ledger-views.ts'
import type { Row } from '../read.ts'

// Each ledger row as one step of a trace: what it shows, never its payload.

/** A message on a queue kept in the ledger itself (the embedded queue) that carries a traced id. */
export interface QueuedMessage {
  id: string
  queue: string
  sentAt: number
  receives: number
  /** Received and not yet acked nor back on the queue. */
  inFlight: boolean
}

const clean = (detail: Record<string, string | number | null | undefined>) =>
  Object.fromEntries(
    Object.entries(detail).filter(([, v]) => v !== null && v !== undefined && v !== ''),
  ) as Record<string, string | number>

/** A step's time in the one shown form; null when the ledger has none. */
const at = (ms: unknown): string | null => shownTime(ms) || null

export const runStep = (r: Row): TraceStep => ({
  step: 'run',
  id: String(r.id),
  status: String(r.status),
  at: at(r.planned_at),
  detail: clean({ slot: r.slot, invoices: r.invoice_count, attempts: r.attempts, error: r.last_error }),
})

export const invoiceStep = (i: Row): TraceStep => ({
  step: 'invoice',
  id: String(i.id),
  status: String(i.status),
  at: at(i.credited_at ?? i.updated_at),
  detail: clean({
    stark_id: i.stark_id,
    amount_cents: i.amount,
    // What the first credit paid (fine and interest included), when it differs from the plan.
    credited_cents: i.credited_amount === i.amount ? null : i.credited_amount,
    fee_cents: i.fee,
  }),
})

export const eventStep = (e: Row): TraceStep => ({
  step: 'event',
  id: String(e.id),
  status: String(e.type),
  at: at(e.received_at),
  detail: clean({
    source: e.source,
    subscription: e.subscription,
    subject: e.subject_id,
    // `anomaly`: recorded, changed nothing; `unmatched`: waiting for its transfer to be created.
    flag: e.flag,
    outcome: e.outcome,
  }),
})

export const outboxStep = (o: Row): TraceStep => ({
  step: 'outbox',
  id: String(o.id),
  status: String(o.status),
  at: at(o.updated_at),
  detail: clean({ kind: o.kind, attempts: o.attempts, error: o.last_error }),
})

export const transferStep = (t: Row): TraceStep => ({
  step: 'transfer',
  id: String(t.id),
  status: String(t.status),
  at: at(t.updated_at),
  detail: clean({
    amount_cents: t.amount,
    stark_id: t.stark_id,
    bank_status: t.bank_status,
    reason: t.reason,
  }),
})

export const forwardStep = (f: Row): TraceStep => ({
  step: 'forward',
  id: String(f.id),
  status: String(f.status),
  at: at(f.delivered_at ?? f.updated_at),
  detail: clean({
    type: f.type,
    shape: f.shape,
    attempts: f.attempts,
    last_status: f.last_status_code,
    latency_ms: f.latency_ms,
    error: f.last_error,
  }),
})

export const deadLetterStep = (d: Row): TraceStep => ({
  step: 'dead-letter',
  id: String(d.id),
  status: 'dead',
  at: at(d.created_at),
  detail: clean({ queue: d.queue, message: d.message_id, receives: d.receive_count, reason: d.reason }),
})

export const queuedStep = (q: QueuedMessage): TraceStep => ({
  step: 'queued',
  id: q.id,
  status: q.inFlight ? 'in flight' : 'waiting',
  at: at(q.sentAt),
  detail: clean({ queue: q.queue, receives: q.receives }),
})

import { reaisOrBlank as brl } from '../../../domain/money.ts'
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

export const runStep = (r: Row): TraceStep => ({
  step: 'run',
  id: String(r.id),
  status: String(r.status),
  at: r.planned_at as number,
  detail: clean({ slot: r.slot, invoices: r.invoice_count, attempts: r.attempts, error: r.last_error }),
})

export const invoiceStep = (i: Row): TraceStep => ({
  step: 'invoice',
  id: String(i.id),
  status: String(i.status),
  at: (i.credited_at ?? i.updated_at) as number,
  detail: clean({
    stark_id: i.stark_id,
    amount: brl(i.amount),
    // What the first credit paid (fine and interest included), when it differs from the plan.
    credited: i.credited_amount === i.amount ? '' : brl(i.credited_amount),
    fee: i.fee === null ? '' : brl(i.fee),
  }),
})

export const eventStep = (e: Row): TraceStep => ({
  step: 'event',
  id: String(e.id),
  status: String(e.type),
  at: e.received_at as number,
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
  at: o.updated_at as number,
  detail: clean({ kind: o.kind, attempts: o.attempts, error: o.last_error }),
})

export const transferStep = (t: Row): TraceStep => ({
  step: 'transfer',
  id: String(t.id),
  status: String(t.status),
  at: t.updated_at as number,
  detail: clean({
    amount: brl(t.amount),
    stark_id: t.stark_id,
    bank_status: t.bank_status,
    reason: t.reason,
  }),
})

export const forwardStep = (f: Row): TraceStep => ({
  step: 'forward',
  id: String(f.id),
  status: String(f.status),
  at: (f.delivered_at ?? f.updated_at) as number,
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
  at: d.created_at as number,
  detail: clean({ queue: d.queue, message: d.message_id, receives: d.receive_count, reason: d.reason }),
})

export const queuedStep = (q: QueuedMessage): TraceStep => ({
  step: 'queued',
  id: q.id,
  status: q.inFlight ? 'in flight' : 'waiting',
  at: q.sentAt,
  detail: clean({ queue: q.queue, receives: q.receives }),
})

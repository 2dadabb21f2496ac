import { shownTime as time } from '../../../domain/ledger-time.ts'
import type { QueryView, ViewFilter, ViewRow } from '../../../ports/ledger-views.ts'
import type { LedgerRead, Row } from '../read.ts'

const text = (v: unknown) => (v === null || v === undefined ? '' : String(v))
/** Money stays integer cents (under a `…_cents` column); null when the ledger has none. */
const cents = (v: unknown) => (typeof v === 'number' ? v : null)

/** What `status` matches in each view. */
export const STATUS_MEANING: Record<QueryView, string> = {
  runs: 'run status (planned, issued, failed)',
  invoices: 'invoice status (planned, issued, credited)',
  events: 'event type (credited, created, success, failed, charge.succeeded, …) or flag (anomaly, unmatched)',
  transfers:
    "paybridge's status (pending, held, created, skipped, dead) or Stark Bank's (success, failed, …)",
  outbox: 'outbox status (pending, in_flight, held, done, dead)',
  'dead-letters': 'queue name',
  forwards: 'forward status (pending, delivered, dead)',
}

interface Spec {
  table: string
  time: string
  /** The columns `status` is matched against (any of them). */
  status: string[]
  /** Newest first; ends on a unique column so both engines give ties the same order. */
  order: string
  show(r: Row): ViewRow
}

const SPECS: Record<QueryView, Spec> = {
  runs: {
    table: 'scheduler_runs',
    time: 'planned_at',
    status: ['status'],
    order: 'planned_at DESC, id DESC',
    show: (r) => ({
      run: text(r.id),
      status: text(r.status),
      invoices: r.invoice_count ?? 0,
      planned: time(r.planned_at),
      issued: time(r.issued_at),
      attempts: r.attempts ?? 0,
      error: text(r.last_error),
    }),
  },
  invoices: {
    table: 'invoices',
    time: 'created_at',
    status: ['status'],
    order: 'created_at DESC, id DESC',
    show: (r) => ({
      invoice: text(r.id),
      stark_id: text(r.stark_id),
      status: text(r.status),
      amount_cents: cents(r.amount),
      paid_cents: cents(r.credited_amount),
      fee_cents: cents(r.fee),
      name: text(r.name),
      tax_id: text(r.tax_id),
      credited: time(r.credited_at),
    }),
  },
  events: {
    table: 'events',
    time: 'received_at',
    status: ['type', 'flag'],
    order: 'received_at DESC, id DESC',
    show: (r) => ({
      event: text(r.id),
      source: text(r.source),
      subscription: text(r.subscription),
      type: text(r.type),
      subject: text(r.subject_id),
      flag: text(r.flag),
      outcome: text(r.outcome),
      received: time(r.received_at),
    }),
  },
  transfers: {
    table: 'transfers',
    time: 'created_at',
    status: ['status', 'bank_status'],
    order: 'created_at DESC, id DESC',
    show: (r) => ({
      transfer: text(r.id),
      invoice: text(r.invoice_stark_id),
      amount_cents: cents(r.amount),
      status: text(r.status),
      stark_id: text(r.stark_id),
      bank_status: text(r.bank_status),
      reason: text(r.reason),
      updated: time(r.updated_at),
    }),
  },
  outbox: {
    table: 'outbox',
    time: 'created_at',
    status: ['status'],
    order: 'created_at DESC, id DESC',
    show: (r) => ({
      id: text(r.id),
      kind: text(r.kind),
      status: text(r.status),
      attempts: r.attempts ?? 0,
      // Only a pending row waits for a time; others have a stale one.
      next_attempt: r.status === 'pending' ? time(r.next_attempt_at) : '',
      last_error: text(r.last_error),
    }),
  },
  'dead-letters': {
    table: 'dead_letters',
    time: 'created_at',
    status: ['queue'],
    order: 'created_at DESC, id DESC',
    show: (r) => {
      const body = text(r.body)
      return {
        id: r.id ?? 0,
        queue: text(r.queue),
        message: text(r.message_id),
        reason: text(r.reason),
        receives: r.receive_count ?? 0,
        body: body.length > 60 ? `${body.slice(0, 57)}...` : body,
        at: time(r.created_at),
      }
    },
  },
  forwards: {
    table: 'forwards',
    time: 'created_at',
    status: ['status'],
    order: 'created_at DESC, id DESC',
    show: (r) => ({
      event: text(r.id),
      type: text(r.type),
      shape: text(r.shape),
      status: text(r.status),
      attempts: r.attempts ?? 0,
      last_status: text(r.last_status_code),
      latency_ms: text(r.latency_ms),
      error: text(r.last_error),
      received: time(r.created_at),
      delivered: time(r.delivered_at),
    }),
  },
}

/** The SQL of a view (portable, `?` parameters) and how its rows are shown. */
export function viewQuery(
  view: QueryView,
  filter: ViewFilter = {},
): { sql: string; params: (string | number)[]; show(r: Row): ViewRow } {
  const spec = SPECS[view]
  const where: string[] = []
  const params: (string | number)[] = []
  if (filter.status !== undefined) {
    where.push(`(${spec.status.map((c) => `${c} = ?`).join(' OR ')})`)
    for (const _ of spec.status) params.push(filter.status)
  }
  if (filter.since !== undefined) {
    where.push(`${spec.time} >= ?`)
    params.push(filter.since)
  }
  params.push(filter.limit ?? 50)
  const sql = `SELECT * FROM ${spec.table} ${where.length ? `WHERE ${where.join(' AND ')} ` : ''}ORDER BY ${spec.order} LIMIT ?`
  return { sql, params, show: spec.show }
}

/** The views' rows. Dead letters carry their row id (what the admin surface's replay takes). */
export const viewRows =
  (read: LedgerRead) =>
  async (view: QueryView, filter: ViewFilter = {}): Promise<ViewRow[]> => {
    const q = viewQuery(view, filter)
    return (await read.all(q.sql, q.params)).map(q.show)
  }

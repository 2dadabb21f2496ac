import type { Ledger } from './database.ts'
import { hasTable } from './ledger-counts.ts'

export const QUERY_VIEWS = [
  'runs',
  'invoices',
  'events',
  'transfers',
  'outbox',
  'dead-letters',
  'forwards',
] as const
export type QueryView = (typeof QUERY_VIEWS)[number]

export interface ViewFilter {
  /** The view's state column: see `STATUS_MEANING`. */
  status?: string
  /** Rows at or after this time (ms since the epoch), by the view's time column. */
  since?: number
  limit?: number
}

type Row = Record<string, string | number | null>
type Out = Record<string, string | number>

const time = (ms: unknown) =>
  typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : ''
const money = (cents: unknown) => (typeof cents === 'number' ? (cents / 100).toFixed(2) : '')
const text = (v: unknown) => (v === null || v === undefined ? '' : String(v))

/** What `--status` matches in each view. */
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
  /** SQL matching the status parameter `$status`. */
  status: string
  order: string
  map(r: Row): Out
}

const SPECS: Record<QueryView, Spec> = {
  runs: {
    table: 'scheduler_runs',
    time: 'planned_at',
    status: 'status = $status',
    order: 'planned_at DESC',
    map: (r) => ({
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
    status: 'status = $status',
    order: 'created_at DESC, id DESC',
    map: (r) => ({
      invoice: text(r.id),
      stark_id: text(r.stark_id),
      status: text(r.status),
      amount: money(r.amount),
      paid: money(r.credited_amount),
      fee: money(r.fee),
      name: text(r.name),
      tax_id: text(r.tax_id),
      credited: time(r.credited_at),
    }),
  },
  events: {
    table: 'events',
    time: 'received_at',
    status: '(type = $status OR flag = $status)',
    order: 'received_at DESC',
    map: (r) => ({
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
    status: '(status = $status OR bank_status = $status)',
    order: 'created_at DESC, id DESC',
    map: (r) => ({
      transfer: text(r.id),
      invoice: text(r.invoice_stark_id),
      amount: money(r.amount),
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
    status: 'status = $status',
    order: 'created_at DESC, id DESC',
    map: (r) => ({
      id: text(r.id),
      kind: text(r.kind),
      status: text(r.status),
      attempts: r.attempts ?? 0,
      next_attempt: r.status === 'pending' ? time(r.next_attempt_at) : '',
      last_error: text(r.last_error),
    }),
  },
  'dead-letters': {
    table: 'dead_letters',
    time: 'created_at',
    status: 'queue = $status',
    order: 'created_at DESC, id DESC',
    map: (r) => {
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
    status: 'status = $status',
    order: 'created_at DESC, id DESC',
    map: (r) => ({
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

/**
 * A ledger view, newest first, filtered by status and time. Same columns as the plain views, with
 * dead letters' row id added (what the admin surface's replay takes). A ledger without the view's
 * table (older than its migration) has no rows.
 */
export function ledgerRows(ledger: Ledger, view: QueryView, filter: ViewFilter = {}): Out[] {
  const spec = SPECS[view]
  if (!hasTable(ledger, spec.table)) return []
  const where: string[] = []
  const params: Record<string, string | number> = { limit: filter.limit ?? 50 }
  if (filter.status !== undefined) {
    where.push(spec.status)
    params.status = filter.status
  }
  if (filter.since !== undefined) {
    where.push(`${spec.time} >= $since`)
    params.since = filter.since
  }
  const sql = `SELECT * FROM ${spec.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${spec.order} LIMIT $limit`
  return (ledger.sqlite.query(sql).all(params) as Row[]).map(spec.map)
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `--since`: an ISO time (`2026-03-01`, `2026-03-01T12:00Z`) or an age (`30m`, `6h`, `2d`). */
export function parseSince(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined
  const age = /^(\d+)([mhd])$/.exec(value)
  if (age) return now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS]
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined
  const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value)
  return Number.isNaN(at) ? undefined : at
}

import type { Reconciliation } from '../../../domain/reconcile.ts'
import type { ViewRow } from '../../../ports/ledger-views.ts'
import type { Row } from '../read.ts'
import { viewQuery } from '../views/rows.ts'
import type { Ledger } from './database.ts'
import { count, type LedgerCounts, ledgerCounts } from './ledger-counts.ts'
import { reconcile } from './reconcile.ts'

/** Something dead in the ledger, with what a replay of it takes. */
export interface DeadItem {
  kind: 'transfer' | 'forward' | 'dead-letter'
  id: string
  /** Where it died: the queue, or the outbox. */
  where: string
  reason: string
  at: number
}

/** Everything the status page shows, read from the ledger at once. */
export interface StatusSnapshot {
  at: number
  counts: LedgerCounts
  flow: {
    issued: number
    credited: number
    queued: number
    created: number
    confirmed: number
    pending: number
    held: number
    failed: number
    dead: number
  }
  /** Undefined when the ledger has no forwards table. */
  stripe: { received: number; delivered: number; pending: number; dead: number } | undefined
  runs: ViewRow[]
  reconciliation: Reconciliation & { from: string }
  dead: DeadItem[]
}

const DAY_MS = 86_400_000

/**
 * The status page's numbers: the flow's counts per stage, recent scheduler runs, a reconciliation of
 * the last `days` UTC days, and every dead transfer, forward and dead letter (newest first, at most
 * `deadLimit`). Reasons are the ledger's own; payloads are never included.
 */
export function statusSnapshot(
  ledger: Ledger,
  options: { now: number; days?: number; runs?: number; deadLimit?: number },
): StatusSnapshot {
  const counts = ledgerCounts(ledger)
  const t = counts.transfers
  const from = new Date(options.now - ((options.days ?? 7) - 1) * DAY_MS).toISOString().slice(0, 10)
  const deadLimit = options.deadLimit ?? 50
  const runs = viewQuery('runs', { limit: options.runs ?? 8 })
  const outboxDead = ledger.sqlite
    .query(
      `SELECT kind, ref_id AS id, coalesce(last_error, '') AS reason, updated_at AS at
       FROM outbox WHERE status = 'dead' ORDER BY updated_at DESC LIMIT ?`,
    )
    .all(deadLimit) as { kind: 'transfer' | 'forward'; id: string; reason: string; at: number }[]
  const letters = ledger.sqlite
    .query('SELECT id, queue, reason, created_at AS at FROM dead_letters ORDER BY created_at DESC LIMIT ?')
    .all(deadLimit) as { id: number; queue: string; reason: string; at: number }[]
  const dead: DeadItem[] = [
    ...outboxDead.map((o) => ({ ...o, where: `${o.kind} outbox` })),
    ...letters.map((d) => ({
      kind: 'dead-letter' as const,
      id: String(d.id),
      where: `queue ${d.queue}`,
      reason: d.reason,
      at: d.at,
    })),
  ].sort((a, b) => b.at - a.at)
  const f = counts.forwards
  return {
    at: options.now,
    counts,
    flow: {
      issued: count(counts.invoices, 'issued') + count(counts.invoices, 'credited'),
      credited: count(counts.invoices, 'credited'),
      queued: count(t, 'pending') + count(t, 'held') + count(t, 'created') + count(t, 'dead'),
      created: count(t, 'created'),
      confirmed: count(counts.transferBank, 'success'),
      pending: count(t, 'pending'),
      held: count(t, 'held'),
      failed: count(counts.transferBank, 'failed'),
      dead: count(t, 'dead'),
    },
    stripe: f && {
      received: Object.values(f).reduce((s, n) => s + n, 0),
      delivered: count(f, 'delivered'),
      pending: count(f, 'pending'),
      dead: count(f, 'dead'),
    },
    runs: (ledger.sqlite.query(runs.sql).all(...runs.params) as Row[]).map(runs.show),
    reconciliation: { ...reconcile(ledger, { from, now: options.now }), from },
    dead: dead.slice(0, deadLimit),
  }
}

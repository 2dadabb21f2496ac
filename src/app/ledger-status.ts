import type { Reconciliation } from '../domain/reconcile.ts'
import type { DeadItem, LedgerCounts, LedgerViews, ViewRow } from '../ports/ledger-views.ts'
import type { QueueDepth } from '../ports/queue.ts'
import { firstOfLastDays, reconcileLedger } from './reconcile-ledger.ts'

export type { DeadItem } from '../ports/ledger-views.ts'

/** Everything the status page shows. */
export interface StatusSnapshot {
  at: number
  /** The ledger's counts, and the embedded queues' depths (none when the queues are on SQS). */
  counts: LedgerCounts & { queues: QueueDepth[] }
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
  stripe: { received: number; delivered: number; pending: number; dead: number }
  runs: ViewRow[]
  reconciliation: Reconciliation & { from: string }
  dead: DeadItem[]
}

const count = (counts: Record<string, number>, key: string): number => counts[key] ?? 0

/**
 * The status page's numbers: the flow's counts per stage, recent scheduler runs, a reconciliation of
 * the last `days` UTC days, and every dead transfer, forward and dead letter (newest first, at most
 * `deadLimit`). The same on either ledger engine.
 */
export function ledgerStatus(deps: {
  views: Pick<LedgerViews, 'status' | 'reconcileRows'>
  /** The embedded queues' depths; absent when the queues are on SQS. */
  queueDepths?: () => QueueDepth[] | Promise<QueueDepth[]>
}) {
  const reconcile = reconcileLedger(deps.views)
  return async (options: {
    now: number
    days?: number
    runs?: number
    deadLimit?: number
  }): Promise<StatusSnapshot> => {
    const { counts, runs, dead } = await deps.views.status({
      runs: options.runs ?? 8,
      deadLimit: options.deadLimit ?? 50,
    })
    const from = firstOfLastDays(options.now, options.days ?? 7)
    const reconciliation = await reconcile({ from, now: options.now })
    const t = counts.transfers
    const f = counts.forwards
    return {
      at: options.now,
      counts: { ...counts, queues: (await deps.queueDepths?.()) ?? [] },
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
      stripe: {
        received: Object.values(f).reduce((s, n) => s + n, 0),
        delivered: count(f, 'delivered'),
        pending: count(f, 'pending'),
        dead: count(f, 'dead'),
      },
      runs,
      reconciliation: { ...reconciliation, from },
      dead,
    }
  }
}

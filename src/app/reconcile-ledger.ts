import { type Reconciliation, reconcile } from '../domain/reconcile.ts'
import {
  dayStart,
  type ReconcileOptions,
  reconcileWindow,
  withRequestedDay,
} from '../domain/reconcile-window.ts'
import type { LedgerViews } from '../ports/ledger-views.ts'

const DAY_MS = 86_400_000

/**
 * The days a reconciliation was asked for (`--day`/`--from`, `day=`/`from=`), checked once for the
 * CLI and /admin: each a real `YYYY-MM-DD`, or the problem as a message.
 */
export function reconcileDays(asked: {
  day?: string | undefined
  from?: string | undefined
}): { day?: string; from?: string } | { problem: string } {
  for (const d of [asked.day, asked.from]) {
    if (d === undefined) continue
    try {
      dayStart(d)
    } catch (err) {
      return { problem: (err as Error).message }
    }
  }
  return { ...(asked.day ? { day: asked.day } : {}), ...(asked.from ? { from: asked.from } : {}) }
}

/** The UTC day `days - 1` days before `now`: where a reconciliation of the last `days` days starts. */
export const firstOfLastDays = (now: number, days: number): string =>
  new Date(now - (days - 1) * DAY_MS).toISOString().slice(0, 10)

/**
 * Reconciles the ledger's credited invoices against its transfers per UTC day of the credit (the
 * domain's `reconcile`), on whichever engine `views` reads.
 */
export function reconcileLedger(views: Pick<LedgerViews, 'reconcileRows'>) {
  return async (options: ReconcileOptions = {}): Promise<Reconciliation> => {
    const rows = await views.reconcileRows(reconcileWindow(options))
    const result = reconcile(
      rows.invoices,
      rows.transfers,
      {
        now: options.now ?? Date.now(),
        ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      },
      rows.anomalies,
    )
    return withRequestedDay(result, options)
  }
}

import type { Reconciliation } from '../domain/reconcile.ts'
import { type Clock, realTimers, type Timers } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import { firstOfLastDays } from './reconcile-ledger.ts'

/** Reconciles the ledger from the UTC day `from` (YYYY-MM-DD) up to `now`. */
export type ReconcileFrom = (options: {
  from: string
  now: number
}) => Reconciliation | Promise<Reconciliation>

/**
 * The last `days` days (7) reconciled every `everyMs` (10 minutes), and also at `start()` with
 * `atStart`, each result reported to the metrics (the reconciliation gauges): what an alert on an
 * unbalanced ledger reads between operator runs. A failed run is logged; the next one tries again.
 */
export function recentReconciliation(deps: {
  reconcile: ReconcileFrom
  metrics: Pick<Metrics, 'reconciliation'>
  clock: Clock
  log: Log
  days?: number
  everyMs?: number
  /** Also reconcile once when started, so the gauges tell the truth before the first interval. */
  atStart?: boolean
  timers?: Timers
}) {
  const timers = deps.timers ?? realTimers
  const days = deps.days ?? 7
  let cancel: (() => void) | undefined

  async function runOnce(): Promise<Reconciliation> {
    const now = deps.clock()
    const from = firstOfLastDays(now, days)
    const result = await deps.reconcile({ from, now })
    deps.metrics.reconciliation({ ok: result.ok, mismatches: result.mismatches.length }, deps.clock())
    return result
  }

  return {
    runOnce,
    start(): void {
      if (cancel) return
      const run = () =>
        void runOnce().catch((err) =>
          deps.log.error('reconciliation of the recent days failed', {
            error: err instanceof Error ? err.message : String(err),
          }),
        )
      cancel = timers.every(deps.everyMs ?? 600_000, run)
      if (deps.atStart) run()
    },
    stop(): void {
      cancel?.()
      cancel = undefined
    },
  }
}

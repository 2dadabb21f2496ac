import type { Clock } from '../ports/clock.ts'
import type { ForwardStore, ReplayEntry, ReplayFilter } from '../ports/forward-store.ts'
import type { Log } from '../ports/log.ts'

export interface ReplayReport {
  entries: ReplayEntry[]
  /** Forwards put back in the outbox (or that would be, on a dry run). */
  queued: number
  skipped: number
  dryRun: boolean
}

/** Whether a replay entry is (or would be) sent again. */
export const willSend = (e: ReplayEntry) => e.action === 'requeue' || e.action === 'resend'

/**
 * Puts dead forwards back in the outbox through the ledger, so the running relay (in this process or
 * another one on the same ledger) sends them with a fresh retry window. A delivered event is sent
 * again only with `force`; a pending one is already on its way. `plan` shows what `replay` would do.
 */
export function forwardReplayer(deps: {
  store: Pick<ForwardStore, 'replayForwards'>
  clock: Clock
  log: Log
}) {
  async function run(filter: ReplayFilter, dryRun: boolean): Promise<ReplayReport> {
    const entries = await deps.store.replayForwards(filter, deps.clock(), { dryRun })
    const queued = entries.filter(willSend).length
    if (!dryRun) {
      for (const e of entries.filter(willSend)) {
        deps.log.info('forward replayed', { eventId: e.id, was: e.status, action: e.action })
      }
    }
    return { entries, queued, skipped: entries.length - queued, dryRun }
  }
  return {
    plan: (filter: ReplayFilter) => run(filter, true),
    replay: (filter: ReplayFilter) => run(filter, false),
  }
}

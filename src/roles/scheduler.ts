import { invoiceSchedule } from '../adapters/cron/invoice-schedule.ts'
import { invoiceIssuer } from '../app/issue-invoices.ts'
import { bankSteps, type RoleModule, type Shared } from './shared.ts'

/**
 * The invoice scheduler role: issues invoices on INVOICE_SCHEDULE (a missed slot at start), and
 * resumes unfinished runs. `issueNow()` runs a manual slot in any process.
 */
export function schedulerRole(
  deps: Shared & {
    /** At start, when the catch-up ran no slot (the embedded emulator starts empty: give it a batch). */
    issueAtStart: boolean
  },
): RoleModule & {
  issueNow(): Promise<{ runId: string; planned: boolean; issued: boolean }>
  readiness(): true | string
} {
  const { config, ledger, clock, log } = deps
  const issuer = invoiceIssuer({
    ...bankSteps(deps),
    resumeAfterUnknownMs: config.invoiceResumeAfterUnknownMs,
  })
  const schedule = invoiceSchedule({
    pattern: config.invoiceSchedule,
    issuer,
    lastPlannedAt: async () => (await ledger.store.lastRun())?.plannedAt,
    clock,
    log,
  })
  let scheduling: Promise<void> = Promise.resolve()
  return {
    issueNow: () => issuer.runSlot(new Date(clock()), 'manual'),
    readiness: () => (schedule.running() ? true : 'invoice scheduler not running'),
    start() {
      scheduling = schedule
        .start()
        .then(async (ranCatchUp) => {
          if (deps.issueAtStart && !ranCatchUp) await issuer.runSlot(new Date(clock()), 'manual')
        })
        .catch((err) => log.error('start-up invoice run failed', { error: String(err) }))
    },
    /** No new runs from the moment it is called; resolves once the start-up run in hand has ended. */
    stop() {
      schedule.stop()
      return scheduling.catch(() => undefined)
    },
  }
}

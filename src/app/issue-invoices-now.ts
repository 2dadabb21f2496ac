import type { Random } from '../domain/random.ts'
import type { Bank } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Store } from '../ports/store.ts'
import { invoiceIssuer } from './issue-invoices.ts'

/**
 * `invoices issue`: plans and issues one manual run now, outside the schedule. A run planned but not
 * issued (Stark Bank failed mid-run) stays in the ledger: the running paybridge, or the next
 * `invoices issue`, resumes it and creates only what is missing.
 */
export async function issueInvoicesNow(deps: {
  store: Store
  bank: Bank
  clock: Clock
  random: Random
  log: Log
  resumeAfterUnknownMs: number
}): Promise<{ kind: 'issued'; runId: string } | { kind: 'not-issued'; runId: string }> {
  const run = await invoiceIssuer(deps).runSlot(new Date(deps.clock()), 'manual')
  if (!run.issued) {
    deps.log.error(
      'run planned but not issued; the running paybridge (or the next `invoices issue`) retries it',
      {
        runId: run.runId,
      },
    )
    return { kind: 'not-issued', runId: run.runId }
  }
  deps.log.info('invoice run done', { runId: run.runId })
  return { kind: 'issued', runId: run.runId }
}

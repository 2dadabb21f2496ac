import { issueInvoicesNow } from '../../app/issue-invoices-now.ts'
import { syncEvents } from '../../app/sync-events.ts'
import { openStores } from '../ledger/open.ts'
import type { Command } from './command.ts'

// One-off commands that call Stark Bank with the configured credentials; each writes to the ledger
// (either engine) and leaves sending transfers to the running paybridge.

export const invoicesIssueCommand: Command = {
  name: 'invoices issue',
  summary: 'issue one batch of invoices now (needs Stark Bank credentials)',
  options: {},
  notes: 'exit codes: 0 issued, 1 planned but not issued (the running paybridge retries it), 2 usage',
  async run(_args, ctx) {
    const config = ctx.config()
    const log = ctx.log()
    if (!config.stark) {
      ctx.err(
        'paybridge: `invoices issue` needs Stark Bank credentials (STARK_PROJECT_ID, STARK_PRIVATE_KEY);\n' +
          'on the embedded default, the running paybridge issues a batch at start and every period.\n',
      )
      return 2
    }
    const stores = await openStores(config)
    try {
      const run = await issueInvoicesNow({
        store: stores.store,
        bank: ctx.roots.bank(config.stark, config.starkTimeoutMs),
        clock: Date.now,
        random: Math.random,
        log,
        resumeAfterUnknownMs: config.invoiceResumeAfterUnknownMs,
      })
      return run.kind === 'issued' ? 0 : 1
    } finally {
      await stores.close()
    }
  },
}

export const eventsSyncCommand: Command = {
  name: 'events sync',
  summary: 'record the events Stark Bank could not deliver by webhook (also at start, hourly)',
  options: {},
  async run(_args, ctx) {
    const config = ctx.config()
    const log = ctx.log()
    if (!config.stark) {
      ctx.err('paybridge: `events sync` needs Stark Bank credentials (STARK_PROJECT_ID, STARK_PRIVATE_KEY)\n')
      return 2
    }
    const stores = await openStores(config)
    try {
      await syncEvents({
        bank: ctx.roots.bank(config.stark, config.starkTimeoutMs),
        store: stores.store,
        destination: config.destination,
        payoutScope: config.payoutScope,
        clock: Date.now,
        log,
      })
      return 0
    } finally {
      await stores.close()
    }
  },
}

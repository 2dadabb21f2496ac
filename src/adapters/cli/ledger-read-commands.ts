import { reconcileLedger } from '../../app/reconcile-ledger.ts'
import { QUERY_VIEWS } from '../../ports/ledger-views.ts'
import { openStores } from '../ledger/open.ts'
import { STATUS_MEANING } from '../ledger/views/rows.ts'
import type { CliContext, Command } from './command.ts'
import { ledgerCommand, RECONCILE_OPTIONS, TRACE_OPTIONS, VIEW_OPTIONS } from './ledger-commands.ts'

// `ledger <view>`, `ledger trace` and `ledger reconcile` on either engine. Their options are declared
// once in ledger-commands.ts, where `ledgerCommand` (also called directly) reads them.

const viewNotes = `views: ${QUERY_VIEWS.join(', ')}
statuses: ${Object.entries(STATUS_MEANING)
  .map(([status, meaning]) => `${status}: ${meaning}`)
  .join('\n          ')}
exit codes: 0 fine, 2 usage`

export const ledgerReconcileCommand: Command = {
  name: 'ledger reconcile',
  summary: 'per UTC day, credited against transferred, and every mismatch (exit 1 when there is one)',
  options: RECONCILE_OPTIONS,
  notes:
    'per UTC day: Σ(credited amount − fee) against Σ(transfers created) and Σ(transfers confirmed), and\n' +
    'every mismatch; anomalies (later credits, invoices not issued by paybridge) are listed apart and do\n' +
    'not fail it. exit codes: 0 reconciled, 1 a mismatch (for cron), 2 usage',
  run: ({ argv }, ctx) => ledgerRead(['reconcile', ...argv], ctx),
}

export const ledgerViewsCommand: Command = {
  name: 'ledger',
  arguments: '<view>',
  positionals: { min: 1, max: 1 },
  summary: 'one of the ledger views, newest first, filtered (SQLite or PostgreSQL)',
  options: VIEW_OPTIONS,
  notes: viewNotes,
  run: ({ argv }, ctx) => ledgerRead(argv, ctx),
}

export const ledgerTraceCommand: Command = {
  name: 'ledger trace',
  arguments: '<id>',
  positionals: { min: 1, max: 1 },
  summary: "one item's lineage from any of its ids",
  options: TRACE_OPTIONS,
  notes:
    "ids: Stark Bank event, invoice (ours or Stark Bank's), transfer (externalId or Stark Bank's), run,\n" +
    'Stripe event or queue message. exit codes: 0 found, 1 nothing mentions it, 2 usage',
  run: ({ argv }, ctx) => ledgerRead(['trace', ...argv], ctx),
}

/** Views, trace and reconcile on either engine, through the ledger's views. */
async function ledgerRead(argv: string[], ctx: CliContext): Promise<number> {
  const stores = await openStores(ctx.config(), { existing: true })
  try {
    return await ledgerCommand(argv, {
      views: stores.views,
      reconcile: reconcileLedger(stores.views),
      out: ctx.out,
      err: ctx.err,
    })
  } finally {
    await stores.close()
  }
}

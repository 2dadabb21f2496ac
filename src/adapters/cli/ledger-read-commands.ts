import { reconcileLedger } from '../../app/reconcile-ledger.ts'
import { openStores } from '../ledger/open.ts'
import type { CliContext, Command } from './command.ts'
import { LEDGER_USAGE, ledgerCommand } from './ledger-commands.ts'

// `ledger <view>`, `ledger trace` and `ledger reconcile` on either engine: they read their own
// arguments (ledger-commands.ts); the table gives them --help and their place in the command list.

const ledgerNotes = LEDGER_USAGE.split('\n').slice(1).join('\n').replace(/^ {2}/gm, '')

export const ledgerReconcileCommand: Command = {
  name: 'ledger reconcile',
  arguments: '[--day YYYY-MM-DD | --from YYYY-MM-DD] [--json]',
  summary: 'per UTC day, credited against transferred, and every mismatch (exit 1 when there is one)',
  options: {},
  raw: true,
  notes: ledgerNotes,
  run: ({ argv }, ctx) => ledgerRead(['reconcile', ...argv], ctx),
}

export const ledgerViewsCommand: Command = {
  name: 'ledger',
  arguments: '<view> | trace <id>',
  summary: 'the ledger: views (newest first, filtered), one item traced from any of its ids',
  options: {},
  raw: true,
  notes: ledgerNotes,
  run: ({ argv }, ctx) => ledgerRead(argv, ctx),
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

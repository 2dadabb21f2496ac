import type { Reconciliation } from '../../domain/reconcile.ts'
import { openStores } from '../ledger/open.ts'
import { openPgLedger } from '../ledger/postgres/database.ts'
import { reconcilePg } from '../ledger/postgres/reconcile.ts'
import { type ReconcileOptions, reconcile } from '../ledger/sqlite/reconcile.ts'
import type { CliContext, Command } from './command.ts'
import { LEDGER_USAGE, ledgerCommand, reconcileCommand } from './ledger-commands.ts'

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
  async run({ argv }, ctx) {
    const config = ctx.config()
    if (!config.databaseUrl) return ledgerRead(['reconcile', ...argv], ctx)
    const pg = await openPgLedger(config.databaseUrl, { maxConnections: 1 })
    try {
      return await reconcileCommand(argv, {
        read: (options) => reconcilePg(pg, options),
        out: ctx.out,
        err: ctx.err,
      })
    } finally {
      await pg.close()
    }
  },
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

/** Views and trace on either engine; `reconcile` here only on SQLite (PostgreSQL's is above). */
async function ledgerRead(argv: string[], ctx: CliContext): Promise<number> {
  const stores = await openStores(ctx.config(), { existing: true })
  const { sqlite } = stores
  try {
    return await ledgerCommand(argv, {
      views: stores.views,
      reconcile: async (options: ReconcileOptions): Promise<Reconciliation> => {
        if (!sqlite) throw new Error('ledger reconcile on PostgreSQL goes through reconcilePg')
        return reconcile(sqlite, options)
      },
      out: ctx.out,
      err: ctx.err,
    })
  } finally {
    await stores.close()
  }
}

import { describeRefusedApproval, transferApprover } from '../../app/approve-transfer.ts'
import { openStores } from '../ledger/open.ts'
import type { Command } from './command.ts'
import { TRANSFERS_REPLAY_OPTIONS, transfersReplay } from './ledger-commands.ts'

// What an operator does to transfers the relay will not send on its own: held ones (over the limits)
// and dead ones. Through the Store, so on PostgreSQL (DATABASE_URL) as on the SQLite file.

export const approveCommand: Command = {
  name: 'ledger approve',
  arguments: '<transfer id>',
  positionals: { min: 1, max: 1 },
  summary: 'release a transfer held by TRANSFER_MAX_AMOUNT / TRANSFER_MAX_DAILY_AMOUNT',
  options: {},
  notes: 'exit codes: 0 approved (the relay sends it next), 1 no such transfer or not held, 2 usage',
  async run({ positionals: [transferId] }, ctx) {
    const config = ctx.config()
    const stores = await openStores(config, { existing: true })
    try {
      const approve = transferApprover({ store: stores.store, clock: Date.now, log: ctx.log() })
      const outcome = await approve(transferId as string)
      if (outcome.kind === 'approved') return 0
      ctx.err(`paybridge: ${describeRefusedApproval(transferId as string, outcome)}\n`)
      return 1
    } finally {
      await stores.close()
    }
  },
}

export const transfersReplayCommand: Command = {
  name: 'ledger transfers replay',
  summary: 'dead transfers back to pending with a fresh retry count (safe to repeat: same externalIds)',
  options: TRANSFERS_REPLAY_OPTIONS,
  notes: 'exit codes: 0 done (or nothing to do), 1 the transfer named is not dead, 2 usage',
  async run({ argv }, ctx) {
    const config = ctx.config()
    const stores = await openStores(config, { existing: true })
    try {
      return await transfersReplay(argv, {
        store: stores.store,
        clock: Date.now,
        log: ctx.log(),
        out: ctx.out,
        err: ctx.err,
      })
    } finally {
      await stores.close()
    }
  },
}

import type { LedgerStatus } from '../../../ports/ledger-views.ts'
import type { LedgerRead } from '../read.ts'
import { ledgerCounts } from './counts.ts'
import { deadItems } from './dead-items.ts'
import { viewQuery } from './rows.ts'

/** The status page's ledger numbers (counts, recent runs, dead items), from one snapshot. */
export const ledgerStatus = (ledger: LedgerRead, options: { runs: number; deadLimit: number }) =>
  ledger.snapshot(async (read): Promise<LedgerStatus> => {
    const runs = viewQuery('runs', { limit: options.runs })
    return {
      counts: await ledgerCounts(read),
      runs: (await read.all(runs.sql, runs.params)).map(runs.show),
      dead: await deadItems(read, options.deadLimit),
    }
  })

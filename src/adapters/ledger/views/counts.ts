import type { Counts, LedgerCounts } from '../../../ports/ledger-views.ts'
import type { LedgerRead } from '../read.ts'

const grouped = async (read: LedgerRead, sql: string): Promise<Counts> => {
  const out: Counts = {}
  for (const row of await read.all<{ k: string | null; n: number }>(sql)) out[row.k ?? ''] = row.n
  return out
}

/** Every count of the flow, read in one snapshot so the numbers agree with each other. */
export const ledgerCounts = (ledger: LedgerRead): Promise<LedgerCounts> =>
  ledger.snapshot(async (read) => {
    const outbox: Record<string, Counts> = {}
    const rows = await read.all<{ kind: string; status: string; n: number }>(
      'SELECT kind, status, count(*) AS n FROM outbox GROUP BY kind, status',
    )
    for (const r of rows) {
      outbox[r.kind] ??= {}
      ;(outbox[r.kind] as Counts)[r.status] = r.n
    }
    return {
      invoices: await grouped(read, 'SELECT status AS k, count(*) AS n FROM invoices GROUP BY status'),
      transfers: await grouped(read, 'SELECT status AS k, count(*) AS n FROM transfers GROUP BY status'),
      transferBank: await grouped(
        read,
        'SELECT bank_status AS k, count(*) AS n FROM transfers GROUP BY bank_status',
      ),
      outbox,
      forwards: await grouped(read, 'SELECT status AS k, count(*) AS n FROM forwards GROUP BY status'),
      deadLetters: await grouped(read, 'SELECT queue AS k, count(*) AS n FROM dead_letters GROUP BY queue'),
    }
  })

/** A count, 0 when absent. */
export const count = (counts: Counts | undefined, key: string): number => counts?.[key] ?? 0

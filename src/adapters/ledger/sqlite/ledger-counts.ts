import type { Ledger } from './database.ts'

export type Counts = Record<string, number>

/** How many rows sit in each state of the flow, read in one go for metrics and the status page. */
export interface LedgerCounts {
  /** Invoices by status (planned, issued, credited). */
  invoices: Counts
  /** Transfers by paybridge's status (pending, held, created, skipped, dead). */
  transfers: Counts
  /** Transfers by the status Stark Bank last reported ('' when none yet). */
  transferBank: Counts
  /** Outbox rows by kind, then status. */
  outbox: Record<string, Counts>
  /** Forwards by status; undefined when this ledger has no forwards table. */
  forwards: Counts | undefined
  /** Dead letters by queue. */
  deadLetters: Counts
  /** The embedded queues: messages waiting or in flight, and when the oldest was sent. */
  queues: { queue: string; messages: number; oldestSentAt: number }[]
}

const grouped = (ledger: Ledger, sql: string): Counts => {
  const out: Counts = {}
  for (const row of ledger.sqlite.query(sql).all() as { k: string | null; n: number }[])
    out[row.k ?? ''] = row.n
  return out
}

/** Whether the ledger has `table` (older ledgers predate some migrations). */
export function hasTable(ledger: Ledger, table: string): boolean {
  return (
    ledger.sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== null
  )
}

/** Reads every count in one read transaction, so the numbers agree with each other. */
export function ledgerCounts(ledger: Ledger): LedgerCounts {
  const read = ledger.sqlite.transaction((): LedgerCounts => {
    const outbox: Record<string, Counts> = {}
    const rows = ledger.sqlite
      .query('SELECT kind, status, count(*) AS n FROM outbox GROUP BY kind, status')
      .all() as { kind: string; status: string; n: number }[]
    for (const r of rows) {
      outbox[r.kind] ??= {}
      ;(outbox[r.kind] as Counts)[r.status] = r.n
    }
    return {
      invoices: grouped(ledger, 'SELECT status AS k, count(*) AS n FROM invoices GROUP BY status'),
      transfers: grouped(ledger, 'SELECT status AS k, count(*) AS n FROM transfers GROUP BY status'),
      transferBank: grouped(
        ledger,
        'SELECT bank_status AS k, count(*) AS n FROM transfers GROUP BY bank_status',
      ),
      outbox,
      forwards: hasTable(ledger, 'forwards')
        ? grouped(ledger, 'SELECT status AS k, count(*) AS n FROM forwards GROUP BY status')
        : undefined,
      deadLetters: grouped(ledger, 'SELECT queue AS k, count(*) AS n FROM dead_letters GROUP BY queue'),
      queues: ledger.sqlite
        .query(
          'SELECT queue, count(*) AS messages, min(sent_at) AS oldestSentAt FROM queue_messages GROUP BY queue',
        )
        .all() as LedgerCounts['queues'],
    }
  })
  return read.deferred()
}

/** A count, 0 when absent. */
export const count = (counts: Counts | undefined, key: string): number => counts?.[key] ?? 0

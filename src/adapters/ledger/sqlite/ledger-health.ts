import type { Ledger } from './database.ts'

/**
 * Whether the ledger takes writes: takes the write lock and writes a row inside a transaction that is
 * always rolled back, so nothing is committed. A read-only file, a full lock (beyond the busy
 * timeout), a closed ledger or a failed WAL sync answers with the reason. Cheap: one page in the page cache, no scan
 * (unlike `PRAGMA quick_check`).
 */
export function ledgerWritable(ledger: Ledger): () => true | string {
  return () => {
    const { sqlite, wal } = ledger
    const failure = wal.failure()
    if (failure) return `ledger not writable: ${failure}`
    try {
      sqlite.exec('BEGIN IMMEDIATE')
    } catch (err) {
      return `ledger not writable: ${(err as Error).message}`
    }
    try {
      sqlite.run(
        `INSERT INTO queue_dedup (queue, dedup_id, expires_at) VALUES ('paybridge-readiness', 'probe', 0)
         ON CONFLICT (queue, dedup_id) DO NOTHING`,
      )
      return true
    } catch (err) {
      return `ledger not writable: ${(err as Error).message}`
    } finally {
      sqlite.exec('ROLLBACK')
    }
  }
}

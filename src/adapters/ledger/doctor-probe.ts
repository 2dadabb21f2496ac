import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LedgerProbe } from '../../ports/doctor-probes.ts'
import type { OpenLedger } from './open.ts'

const JOURNALS = {
  sqlite: join(import.meta.dir, '../../../migrations/meta/_journal.json'),
  postgres: join(import.meta.dir, '../../../migrations-pg/meta/_journal.json'),
}
/** drizzle's bookkeeping: one row per applied migration, `created_at` = the migration's folder time. */
const APPLIED = {
  sqlite: '__drizzle_migrations',
  postgres: 'drizzle.__drizzle_migrations',
}

/** The ledger as `doctor` checks it: writable, migrated to what this build ships, transfers to send. */
export function ledgerProbe(ledger: OpenLedger): LedgerProbe {
  return {
    engine: ledger.engine,
    writable: () => ledger.writable(),

    async migrations() {
      const journal = JSON.parse(readFileSync(JOURNALS[ledger.engine], 'utf8')) as {
        entries: { when: number }[]
      }
      const [row] = await ledger.read.all<{ applied: number; latest: number | null }>(
        `SELECT count(*) AS applied, CAST(max(created_at) AS BIGINT) AS latest FROM ${APPLIED[ledger.engine]}`,
      )
      return {
        known: journal.entries.length,
        latestKnown: Math.max(0, ...journal.entries.map((e) => e.when)),
        applied: Number(row?.applied ?? 0),
        latestApplied: Number(row?.latest ?? 0),
      }
    },

    async transfersToSend() {
      const rows = await ledger.read.all<{ status: string; n: number; cents: number }>(
        `SELECT status, count(*) AS n, CAST(coalesce(sum(amount), 0) AS BIGINT) AS cents
           FROM transfers WHERE status IN ('pending', 'held') GROUP BY status`,
      )
      const of = (status: string) => {
        const row = rows.find((r) => r.status === status)
        return { count: Number(row?.n ?? 0), cents: Number(row?.cents ?? 0) }
      }
      return { pending: of('pending'), held: of('held') }
    },
  }
}

/** The ledger that would not open: every check of it fails with why. */
export function unopenedLedgerProbe(engine: 'sqlite' | 'postgres', error: Error): LedgerProbe {
  const why = `the ledger did not open: ${error.message}`
  return {
    engine,
    writable: async () => why,
    migrations: () => Promise.reject(new Error(why)),
    transfersToSend: () => Promise.reject(new Error(why)),
  }
}

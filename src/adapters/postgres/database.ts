import { join } from 'node:path'
import { SQL } from 'bun'
import { drizzle } from 'drizzle-orm/bun-sql'
import { migrate } from 'drizzle-orm/bun-sql/migrator'
import * as schema from './schema.ts'

export type PgDb = ReturnType<typeof drizzle<typeof schema>>

/** The PostgreSQL ledger: a drizzle database over a pool of Bun's built-in SQL client. */
export interface PgLedger {
  db: PgDb
  /** The pool itself, for what drizzle does not say (advisory locks on a reserved connection). */
  client: SQL
  close(): Promise<void>
}

const MIGRATIONS = join(import.meta.dir, '../../../migrations-pg')

/** Every paybridge process migrates at start under this advisory lock, one after another. */
const MIGRATION_LOCK = 7_263_901_001

/**
 * Opens a pool on `url` (`postgres://user:pass@host:port/db`) and applies `migrations-pg/` first.
 * drizzle's migrator takes no lock of its own and several processes start at once, so the migration
 * runs on one dedicated connection holding a session advisory lock: the first process migrates, the
 * others wait and then find nothing left to do.
 */
export async function openPgLedger(
  url: string,
  options: { maxConnections?: number } = {},
): Promise<PgLedger> {
  await migrateUnderLock(url)
  const client = new SQL({ url, max: options.maxConnections ?? 10 })
  const db = drizzle({ client, schema })
  // Queries in hand get 5 s to finish; then the pool closes anyway (a held run lock ends with its session).
  return { db, client, close: () => client.close({ timeout: 5 }) }
}

async function migrateUnderLock(url: string): Promise<void> {
  // max 1: the lock, the migration and the unlock all run on the same session.
  const client = new SQL({ url, max: 1 })
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK}::bigint)`
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS })
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK}::bigint)`
    }
  } finally {
    await client.close()
  }
}

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
  /** A small pool for the read side: bigint columns arrive as BigInt (read.ts makes them numbers). */
  reader: SQL
  close(): Promise<void>
}

const MIGRATIONS = join(import.meta.dir, '../../../../migrations-pg')

/**
 * Without timeouts a connection attempt to a host that went away after a failover, or a statement
 * stuck behind a lock, waits for hours and the step, the outage probe and `/readyz` with it. A step
 * is a few short statements: one that runs 30 s is stuck, and fails (57014, an outage: the step is
 * retried). Migrations are exempt from the statement timeout (their lock waits for other starters).
 */
const CONNECT_TIMEOUT_S = 10
const STATEMENT_TIMEOUT_MS = 30_000

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
  options: { maxConnections?: number; connectTimeoutS?: number; statementTimeoutMs?: number } = {},
): Promise<PgLedger> {
  const connectionTimeout = options.connectTimeoutS ?? CONNECT_TIMEOUT_S
  await migrateUnderLock(url, connectionTimeout)
  const client = new SQL({
    url,
    max: options.maxConnections ?? 10,
    connectionTimeout,
    connection: { statement_timeout: options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS },
  })
  const db = drizzle({ client, schema })
  // Connects on its first read only: processes that never read views open no connection for it.
  const reader = new SQL({
    url,
    max: 2,
    bigint: true,
    connectionTimeout,
    connection: { statement_timeout: options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS },
  })
  // Queries in hand get 5 s to finish; then the pool closes anyway (a held run lock ends with its session).
  return {
    db,
    client,
    reader,
    close: async () => {
      await Promise.all([client.close({ timeout: 5 }), reader.close({ timeout: 5 })])
    },
  }
}

async function migrateUnderLock(url: string, connectionTimeout: number): Promise<void> {
  // max 1: the lock, the migration and the unlock all run on the same session.
  const client = new SQL({ url, max: 1, connectionTimeout })
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

/** A step's transaction, as drizzle hands it to the callback. */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import * as schema from './schema.ts'

export type Db = ReturnType<typeof drizzle<typeof schema>>

export interface Ledger {
  db: Db
  sqlite: Database
  path: string
  close(): void
}

const MIGRATIONS = join(import.meta.dir, '../../../migrations')

/**
 * Opens (creating if needed) the ledger file, sets the pragmas once and applies the migrations in
 * `migrations/`. `':memory:'` gives a private in-memory ledger for tests.
 */
export function openLedger(path: string, options: { busyTimeoutMs?: number } = {}): Ledger {
  const sqlite = new Database(path, { create: true, strict: true })
  sqlite.exec('PRAGMA journal_mode = WAL')
  // NORMAL in WAL mode is durable against process crashes (the case paybridge plans for); a power
  // loss may lose the last commits, never corrupt the file.
  sqlite.exec('PRAGMA synchronous = NORMAL')
  sqlite.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
  sqlite.exec('PRAGMA foreign_keys = ON')
  const db = drizzle({ client: sqlite, schema })
  migrate(db, { migrationsFolder: MIGRATIONS })
  return { db, sqlite, path, close: () => sqlite.close() }
}

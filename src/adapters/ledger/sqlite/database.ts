import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { StartupFailure } from '../../startup-failure.ts'
import * as schema from './schema.ts'
import { type WalSync, walSync } from './wal-sync.ts'

export type Db = ReturnType<typeof drizzle<typeof schema>>

export interface Ledger {
  db: Db
  sqlite: Database
  /**
   * What makes a commit survive a power loss: an fdatasync of the WAL, off the event loop (see
   * `walSync`). The embedded queue awaits it after each send's commit, so a webhook answered 200 is
   * on disk. A no-op for `':memory:'`.
   */
  wal: WalSync
  path: string
  close(): void
}

/**
 * bun:sqlite is synchronous: a busy wait blocks the whole process (webhooks included). So SQLite
 * itself waits only briefly for a lock held elsewhere; the steps then wait asynchronously and try
 * again (`sqliteStep` in ../ledger-failure.ts), and a lock held longer is reported as an outage.
 */
export const BUSY_TIMEOUT_MS = 50

const MIGRATIONS = join(import.meta.dir, '../../../../migrations')

function pragmas(sqlite: Database, path: string, busyTimeoutMs: number): void {
  // First: switching to WAL takes a lock, and a connection without a busy timeout fails at once.
  sqlite.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
  requireWal(sqlite, path)
  sqlite.exec('PRAGMA synchronous = NORMAL')
  sqlite.exec('PRAGMA foreign_keys = ON')
}

/**
 * A 200 is durable because the WAL is fdatasynced (`walSync`); with NORMAL commits, a ledger in
 * any other journal mode would answer 200 for commits that are not on disk. SQLite does not fail
 * `journal_mode = WAL` when it cannot switch: it answers the mode it kept ('delete' where the VFS
 * has no shared memory, as macOS picks on a network mount; 'memory' for bun:sqlite's '' database).
 * `':memory:'` is let through on purpose: a throwaway ledger for tests, nothing there to sync.
 */
function requireWal(sqlite: Database, path: string): void {
  const { journal_mode: mode } = sqlite.query('PRAGMA journal_mode = WAL').get() as { journal_mode: string }
  if (mode === 'wal' || path === ':memory:') return
  sqlite.close()
  throw new StartupFailure(
    'DATABASE_PATH',
    `the ledger file '${path}' stays in journal mode '${mode}', not WAL, so no commit could be synced to disk before its 200`,
    "point DATABASE_PATH at a file on a local filesystem (not a network mount), or at ':memory:' for a throwaway ledger",
  )
}

/**
 * Opens (creating if needed) the ledger file, sets the pragmas once and applies the migrations in
 * `migrations/`. `':memory:'` gives a private in-memory ledger for tests. A file SQLite will not put
 * in WAL mode is refused (a `StartupFailure` naming DATABASE_PATH).
 *
 * Durability: in WAL mode commits reach the disk in commit order, so a power loss can only cut off
 * a suffix of them. Every commit is NORMAL (durable against a process crash, no fsync per commit);
 * the queue's sends (what a webhook's 200 promises) then await `wal.sync()`, which syncs the WAL
 * before the 200, and with it every earlier commit, as `synchronous = FULL` would without blocking
 * the event loop. What a power loss can lose after the last sync is work that is done again,
 * because its cause survives — a recorded event whose queue message was not acked yet (the ack is
 * later in the WAL, so it is lost too), a transfer marked created (the relay looks it up by its
 * externalId), an outbox lease.
 */
export function openLedger(path: string, options: { busyTimeoutMs?: number } = {}): Ledger {
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS
  const sqlite = new Database(path, { create: true, strict: true })
  // Processes starting together migrate one after another: a long wait, once, at start-up.
  pragmas(sqlite, path, 5000)
  const db = drizzle({ client: sqlite, schema })
  migrate(db, { migrationsFolder: MIGRATIONS })
  sqlite.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
  const wal = walSync(databaseFile(sqlite))
  return {
    db,
    sqlite,
    wal,
    path,
    close: () => {
      wal.close()
      sqlite.close()
    },
  }
}

/** The file SQLite opened for `main`, symlinks resolved ('' in memory): its `-wal` is beside it. */
function databaseFile(sqlite: Database): string {
  const rows = sqlite.query('PRAGMA database_list').all() as { name: string; file: string }[]
  return rows.find((row) => row.name === 'main')?.file ?? ''
}

/**
 * A step's transaction: synchronous and IMMEDIATE, so it takes the write lock at its start and
 * serialises writers across processes sharing the file. bun:sqlite commits an async callback at its
 * first await: nothing inside may await.
 */
export const immediate =
  (db: Db) =>
  <T>(fn: (t: Db) => T): T =>
    db.transaction((t) => fn(t as unknown as Db), { behavior: 'immediate' })

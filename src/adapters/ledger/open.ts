import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { ForwardStore } from '../../ports/forward-store.ts'
import type { LedgerViews } from '../../ports/ledger-views.ts'
import type { Store } from '../../ports/store.ts'
import { queuedMentions } from '../embedded-queue/mentions.ts'
import { StartupFailure } from '../startup-failure.ts'
import { openPgLedger } from './postgres/database.ts'
import { postgresForwardStore } from './postgres/forward-store.ts'
import { pgWritable } from './postgres/ledger-health.ts'
import { postgresStore } from './postgres/store.ts'
import { type LedgerRead, postgresRead, sqliteRead } from './read.ts'
import { type Ledger, openLedger } from './sqlite/database.ts'
import { sqliteForwardStore } from './sqlite/forward-store.ts'
import { ledgerWritable } from './sqlite/ledger-health.ts'
import { sqliteStore } from './sqlite/store.ts'
import { ledgerViews } from './views.ts'

/** The ledger, whichever engine holds it: the one place that looks at DATABASE_URL. */
export interface OpenLedger {
  engine: 'sqlite' | 'postgres'
  store: Store
  forwards: ForwardStore
  /** The read side (views, trace, counts, status, reconcile). */
  read: LedgerRead
  /** The operator's views and trace, over `read`. */
  views: LedgerViews
  /** Whether the ledger takes writes now (true), or why not: for /readyz and the outage probe. */
  writable(): Promise<true | string>
  /** The SQLite file, for the embedded queue that lives in it; undefined on PostgreSQL. */
  sqlite: Ledger | undefined
  close(): Promise<void>
}

/**
 * Opens the ledger and applies its migrations: PostgreSQL with `databaseUrl` (no SQLite file is
 * opened then), else the SQLite file at `databasePath` (its folder created if missing).
 */
export async function openLedgerStores(config: {
  databaseUrl: string | undefined
  databasePath: string
  /** PostgreSQL pool size (default 10). */
  maxConnections?: number
}): Promise<OpenLedger> {
  if (config.databaseUrl) {
    const pg = await openPgLedger(config.databaseUrl, { maxConnections: config.maxConnections })
    const read = postgresRead(pg.reader)
    return {
      engine: 'postgres',
      store: postgresStore(pg),
      forwards: postgresForwardStore(pg),
      read,
      views: ledgerViews(read),
      writable: pgWritable(pg.client),
      sqlite: undefined,
      close: () => pg.close(),
    }
  }
  if (config.databasePath !== ':memory:') mkdirSync(dirname(config.databasePath), { recursive: true })
  const ledger = openLedger(config.databasePath)
  const read = sqliteRead(ledger)
  const writable = ledgerWritable(ledger)
  return {
    engine: 'sqlite',
    store: sqliteStore(ledger),
    forwards: sqliteForwardStore(ledger),
    read,
    // The embedded queue keeps its messages in the same file: a trace shows those waiting.
    views: ledgerViews(read, { queued: queuedMentions }),
    writable: async () => writable(),
    sqlite: ledger,
    close: async () => {
      await read.close()
      ledger.close()
    },
  }
}

/**
 * The ledger's stores for one-off commands (a small pool on PostgreSQL). With `existing`, a SQLite
 * ledger file that is not there is refused rather than created empty: an operator command reading
 * it most likely names the wrong file.
 */
export async function openStores(
  config: { databaseUrl: string | undefined; databasePath: string },
  options: { existing?: boolean } = {},
): Promise<OpenLedger> {
  const path = config.databasePath
  if (options.existing && !config.databaseUrl && path !== ':memory:' && !existsSync(path)) {
    throw new StartupFailure(
      'DATABASE_PATH',
      `no ledger file at ${path}`,
      'run the command where paybridge runs, with its DATABASE_PATH (or DATABASE_URL for PostgreSQL)',
    )
  }
  return openLedgerStores({ ...config, maxConnections: 2 })
}

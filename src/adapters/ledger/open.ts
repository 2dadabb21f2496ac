import type { ForwardStore } from '../../ports/forward-store.ts'
import type { Store } from '../../ports/store.ts'
import { openPgLedger } from './postgres/database.ts'
import { postgresForwardStore } from './postgres/forward-store.ts'
import { postgresStore } from './postgres/store.ts'
import { openLedger } from './sqlite/database.ts'
import { sqliteForwardStore } from './sqlite/forward-store.ts'
import { sqliteStore } from './sqlite/store.ts'

/** The ledger's stores for one-off commands: PostgreSQL with DATABASE_URL, else the SQLite file. */
export async function openStores(config: {
  databaseUrl: string | undefined
  databasePath: string
}): Promise<{ store: Store; forwards: ForwardStore; close(): Promise<void> }> {
  if (config.databaseUrl) {
    const pg = await openPgLedger(config.databaseUrl, { maxConnections: 2 })
    return { store: postgresStore(pg), forwards: postgresForwardStore(pg), close: () => pg.close() }
  }
  const ledger = openLedger(config.databasePath)
  return {
    store: sqliteStore(ledger),
    forwards: sqliteForwardStore(ledger),
    close: async () => ledger.close(),
  }
}

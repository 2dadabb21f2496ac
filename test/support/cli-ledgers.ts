import { join } from 'node:path'
import { openPgLedger } from '../../src/adapters/ledger/postgres/database.ts'
import { postgresStore } from '../../src/adapters/ledger/postgres/store.ts'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../../src/adapters/ledger/sqlite/store.ts'
import type { Store } from '../../src/ports/store.ts'
import type { Postgres } from './postgres.ts'

export interface CliLedger {
  store: Store
  /** What a `bun run src/main.ts …` child needs to find this ledger. */
  env: Record<string, string>
  close(): Promise<void>
}

/**
 * A fresh ledger on each engine for tests that run an operator command in a child process: filled
 * through the store, then read by the command through `env`. `name` names the SQLite file and the
 * PostgreSQL database (one per test file); `pg()` is the file's throwaway server.
 */
export function cliLedgers(dir: string, name: string, pg: () => Postgres | undefined) {
  return [
    {
      name: 'sqlite',
      async open(): Promise<CliLedger> {
        const path = join(dir, `${name}.sqlite`)
        const ledger = openLedger(path)
        return { store: sqliteStore(ledger), env: { DATABASE_PATH: path }, close: async () => ledger.close() }
      },
    },
    {
      name: 'postgres',
      async open(): Promise<CliLedger> {
        const server = pg()
        if (!server) throw new Error('cliLedgers: start PostgreSQL in beforeAll first')
        const url = await server.createDatabase(name)
        const ledger = await openPgLedger(url)
        return {
          store: postgresStore(ledger),
          // The service needs a queue with PostgreSQL; these commands never reach it.
          env: { DATABASE_URL: url, SQS_QUEUE_NAME: 'stark-events', AWS_REGION: 'us-east-1' },
          close: () => ledger.close(),
        }
      },
    },
  ]
}

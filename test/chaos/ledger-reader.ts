import { Database } from 'bun:sqlite'
import { SQL } from 'bun'

// Read-only access to paybridge's ledger for the invariants, on either engine. The queries are
// written in the SQL both SQLite and PostgreSQL speak (quoted aliases, cast(count(*) as integer)).

export interface LedgerReader {
  readonly engine: 'sqlite' | 'postgres'
  all<T>(sql: string): Promise<T[]>
  close(): Promise<void>
}

export function sqliteReader(path: string): LedgerReader {
  return {
    engine: 'sqlite',
    async all<T>(sql: string) {
      // A connection per read: the run must not hold the file open across paybridge's restarts.
      const db = new Database(path, { readonly: true })
      try {
        db.exec('PRAGMA busy_timeout = 2000')
        return db.query(sql).all() as T[]
      } finally {
        db.close()
      }
    },
    async close() {},
  }
}

export function postgresReader(url: string): LedgerReader {
  const sql = new SQL({ url, max: 2, connectionTimeout: 5, idleTimeout: 5 })
  return {
    engine: 'postgres',
    async all<T>(text: string) {
      const read = sql.unsafe(text) as Promise<T[]>
      // A stopped or frozen server must not hang the run: a read gives up after 5 s.
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('ledger read timed out')), 5_000).unref(),
      )
      return [...(await Promise.race([read, timeout]))]
    },
    close: () => sql.close({ timeout: 1 }),
  }
}

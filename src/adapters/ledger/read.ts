import { Database } from 'bun:sqlite'
import type { SQL } from 'bun'

/** One row of a read: column name → value. Integers arrive as numbers on both engines. */
export type Row = Record<string, string | number | null>

/**
 * How the read side (views, trace, counts, status, reconcile) reads either ledger: SQL written once,
 * in the dialect both engines share. Rules for that SQL:
 * - parameters are `?` (turned into `$1…` for PostgreSQL), never a `?` inside a string literal;
 * - no engine-only functions (`instr`, `sqlite_master`, `strpos`, `::` casts); `CAST(… AS BIGINT)`,
 *   `coalesce`, `CASE`, `LIKE`, `substr` and `lower` work on both;
 * - every aggregate over money or time is `CAST(sum(…) AS BIGINT)`: PostgreSQL's sum of a bigint is a
 *   numeric, which would arrive as text.
 */
export interface LedgerRead {
  readonly dialect: 'sqlite' | 'postgres'
  all<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>
  /**
   * Several reads that agree with each other: one read-only repeatable-read transaction on
   * PostgreSQL, one read transaction on a read-only connection of the SQLite file.
   */
  snapshot<T>(fn: (read: LedgerRead) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/**
 * SQLite: reads go to a read-only connection of their own. bun:sqlite is synchronous and a snapshot
 * awaits between its reads: on the writers' connection other steps would run inside it. Snapshots
 * take turns on that connection (SQLite cannot nest transactions). `':memory:'` has no second
 * connection: its reads share the writer's, without a transaction.
 */
export function sqliteRead(ledger: { path: string; sqlite: Database }): LedgerRead {
  let own: Database | undefined
  const conn = () => {
    if (ledger.path === ':memory:') return ledger.sqlite
    own ??= new Database(ledger.path, { readonly: true, strict: true })
    return own
  }
  const all = async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> =>
    conn()
      .query(sql)
      .all(...(params as never[])) as T[]
  let turn: Promise<unknown> = Promise.resolve()
  const close = async () => own?.close()
  // Inside a snapshot, a nested snapshot is the same one.
  const inner: LedgerRead = { dialect: 'sqlite', all, snapshot: (fn) => fn(inner), close }
  const read: LedgerRead = {
    dialect: 'sqlite',
    all,
    snapshot: <T>(fn: (r: LedgerRead) => Promise<T>) => {
      const run = turn.then(async () => {
        const db = conn()
        if (db === ledger.sqlite) return fn(inner)
        db.exec('BEGIN')
        try {
          return await fn(inner)
        } finally {
          db.exec('COMMIT')
        }
      })
      turn = run.catch(() => undefined)
      return run
    },
    close,
  }
  return read
}

/**
 * PostgreSQL: `client` must be a pool opened with `bigint: true` (see database.ts), so that bigint
 * columns arrive as BigInt and are turned into numbers here (safe up to 2^53, like the schema says).
 */
export function postgresRead(client: SQL): LedgerRead {
  const on =
    (target: SQL) =>
    async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
      const rows = (await target.unsafe(numbered(sql), params as unknown[])) as Record<string, unknown>[]
      return rows.map(numbers) as T[]
    }
  const read = (target: SQL, inSnapshot: boolean): LedgerRead => ({
    dialect: 'postgres',
    all: on(target),
    snapshot: (fn) =>
      inSnapshot
        ? fn(read(target, true))
        : (client.begin('read only isolation level repeatable read', (tx) =>
            fn(read(tx as unknown as SQL, true)),
          ) as never),
    close: () => client.close({ timeout: 5 }),
  })
  return read(client, false)
}

const numbered = (sql: string) => {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

const numbers = (row: Record<string, unknown>): Row => {
  const out: Row = {}
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : (v as never)
  return out
}

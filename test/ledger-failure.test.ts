import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { SQL } from 'bun'
import { postgresFailure, sqliteFailure } from '../src/adapters/ledger/ledger-failure.ts'
import { openPgLedger } from '../src/adapters/ledger/postgres/database.ts'
import { pgWritable } from '../src/adapters/ledger/postgres/ledger-health.ts'
import { postgresStore } from '../src/adapters/ledger/postgres/store.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { decideBankEvent } from '../src/domain/bank-event.ts'
import { LedgerUnavailable } from '../src/ports/store.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

// Which ledger errors are outages (pause, retry) rather than the message's fault: the errors real
// servers and files give during a failover, a credential rotation, a timeout or a read-only mount.

const caught = async (run: () => Promise<unknown>): Promise<unknown> => {
  try {
    await run()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

/** Shaped like Bun's PostgresError, for the codes a trust-auth test server cannot produce. */
const serverError = (sqlstate: string, message: string) =>
  Object.assign(new Error(message), {
    name: 'PostgresError',
    code: 'ERR_POSTGRES_SERVER_ERROR',
    errno: sqlstate,
  })

describe('ledger failure classification', () => {
  let pg: Postgres
  let url: string
  let client: SQL

  beforeAll(async () => {
    pg = await startPostgres()
    url = await pg.createDatabase('failures')
    client = new SQL({ url, max: 3 })
    await client`create table held (id int primary key)`
    await client`insert into held values (1)`
  }, 60_000)
  afterAll(async () => {
    await client?.close()
    await pg?.stop()
  })

  it('counts a read-only transaction (25006, a failover to a standby) as an outage', async () => {
    const error = await caught(() => client.begin('read only', (t) => t`insert into held values (2)`))
    expect(postgresFailure(error)).toBe('PostgreSQL SQLSTATE 25006')
  })

  it('counts a statement timeout (57014) as an outage', async () => {
    const error = await caught(() =>
      client.begin(async (t) => {
        await t`set local statement_timeout = 1`
        await t`select pg_sleep(1)`
      }),
    )
    expect(postgresFailure(error)).toBe('PostgreSQL SQLSTATE 57014')
  })

  it('counts a lock not available (55P03) as an outage', async () => {
    let release = () => {}
    const holding = client.begin(async (t) => {
      await t`select id from held where id = 1 for update`
      await new Promise<void>((resolve) => {
        release = resolve
      })
    })
    await Bun.sleep(200)
    const error = await caught(() => client`select id from held where id = 1 for update nowait`)
    release()
    await holding
    expect(postgresFailure(error)).toBe('PostgreSQL SQLSTATE 55P03')
  })

  it('counts a missing database (3D000) as an outage', async () => {
    const missing = new SQL({ url: url.replace(/\/failures$/, '/no_such_db'), max: 1 })
    const error = await caught(() => missing`select 1`)
    await missing.close()
    expect(postgresFailure(error)).toBe('PostgreSQL SQLSTATE 3D000')
  })

  it('counts an authentication failure (28P01, 28000: a credential rotation) as an outage', () => {
    expect(postgresFailure(serverError('28P01', 'password authentication failed for user "paybridge"'))).toBe(
      'PostgreSQL SQLSTATE 28P01',
    )
    expect(postgresFailure(serverError('28000', 'no pg_hba.conf entry for host'))).toBe(
      'PostgreSQL SQLSTATE 28000',
    )
  })

  it('does not count a constraint violation (the input is at fault) as an outage', async () => {
    const error = await caught(() => client`insert into held values (1)`)
    expect(postgresFailure(error)).toBeUndefined()
  })

  it('counts a read-only SQLite file (SQLITE_READONLY), SQLITE_PROTOCOL and SQLITE_NOMEM as outages', () => {
    const dir = tempDir()
    try {
      const path = join(dir.path, 'ledger.sqlite')
      openLedger(path).close()
      const readOnly = new Database(path, { readonly: true })
      let error: unknown
      try {
        readOnly.run(`INSERT INTO queue_dedup (queue, dedup_id, expires_at) VALUES ('q', 'd', 0)`)
      } catch (e) {
        error = e
      }
      readOnly.close()
      expect(sqliteFailure(error)).toMatch(/^SQLite SQLITE_READONLY/)
      const coded = (code: string) => Object.assign(new Error(code), { name: 'SQLiteError', code })
      expect(sqliteFailure(coded('SQLITE_PROTOCOL'))).toBe('SQLite SQLITE_PROTOCOL')
      expect(sqliteFailure(coded('SQLITE_NOMEM'))).toBe('SQLite SQLITE_NOMEM')
      expect(sqliteFailure(coded('SQLITE_CONSTRAINT_UNIQUE'))).toBeUndefined()
    } finally {
      dir.cleanup()
    }
  })

  it('refuses a read-only PostgreSQL ledger in the probe, and its steps fail as LedgerUnavailable', async () => {
    const ledgerUrl = await pg.createDatabase('readonly_ledger')
    const ledger = await openPgLedger(ledgerUrl, { maxConnections: 2 })
    expect(await pgWritable(ledger.client)()).toBe(true)
    await ledger.close()
    await client.unsafe('alter database readonly_ledger set default_transaction_read_only = on')
    // New sessions come up read-only, as they do on a standby after a failover (select 1 still passes).
    const standby = new SQL({ url: ledgerUrl, max: 2 })
    try {
      expect(await standby`select 1 as one`).toEqual([{ one: 1 }])
      expect(await pgWritable(standby)()).toMatch(/ledger not writable: .*read-only/)
      const { drizzle } = await import('drizzle-orm/bun-sql')
      const schema = await import('../src/adapters/ledger/postgres/schema.ts')
      const store = postgresStore({
        db: drizzle({ client: standby, schema }),
        client: standby,
        reader: standby,
        close: async () => {},
      })
      const event = {
        id: '4000000000000901',
        subscription: 'invoice',
        created: '2026-11-25T12:00:00+00:00',
        log: {
          id: '4000000000000902',
          type: 'credited',
          invoice: { id: '4000000000000903', amount: 5_000, fee: 50, status: 'paid', tags: [] },
        },
      }
      const input = { event, payload: JSON.stringify({ event }), decision: decideBankEvent(event, 'issued') }
      const error = await caught(() => store.recordBankEvent(input, Date.now()))
      expect(error).toBeInstanceOf(LedgerUnavailable)
      expect((error as Error).message).toContain('25006')
    } finally {
      await standby.close()
    }
  })
  it('gives ledger statements a timeout, and the probe answers in time while PostgreSQL is frozen', async () => {
    const ledger = await openPgLedger(await pg.createDatabase('timeouts'), { maxConnections: 2 })
    try {
      expect(await ledger.client`show statement_timeout`).toEqual([{ statement_timeout: '30s' }])
      const probe = pgWritable(ledger.client, 500)
      expect(await probe()).toBe(true)
      const frozen = pg.freeze(3_000)
      await Bun.sleep(100)
      const started = Date.now()
      expect(await probe()).toBe('ledger not writable: PostgreSQL did not answer within 500 ms')
      expect(Date.now() - started).toBeLessThan(2_500)
      await frozen
    } finally {
      await ledger.close()
    }
  }, 30_000)
})

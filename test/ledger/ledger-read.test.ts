import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'
import { ledgerProbe } from '../../src/adapters/ledger/doctor-probe.ts'
import { type OpenLedger, openLedgerStores } from '../../src/adapters/ledger/open.ts'
import { type Postgres, startPostgres } from '../support/postgres.ts'

// The read side's SQL is written once: both engines must answer it alike.

interface Engine {
  name: string
  open(): Promise<{ ledger: OpenLedger; exec(sql: string): Promise<void> }>
  tearDown(): Promise<void>
}

const sqlite = (): Engine => {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-read-'))
  let n = 0
  return {
    name: 'sqlite',
    async open() {
      const ledger = await openLedgerStores({ databaseUrl: undefined, databasePath: join(dir, `l${++n}.db`) })
      return { ledger, exec: async (sql) => void ledger.sqlite?.sqlite.run(sql) }
    },
    async tearDown() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const postgres = (): Engine => {
  let server: Postgres | undefined
  let n = 0
  const clients: SQL[] = []
  return {
    name: 'postgres',
    async open() {
      server ??= await startPostgres()
      const url = await server.createDatabase(`read_${++n}`)
      const ledger = await openLedgerStores({ databaseUrl: url, databasePath: '/nonexistent/unused.db' })
      const client = new SQL({ url, max: 1 })
      clients.push(client)
      return { ledger, exec: async (sql) => void (await client.unsafe(sql)) }
    },
    async tearDown() {
      await Promise.all(clients.map((c) => c.close()))
      await server?.stop()
    },
  }
}

const run = (slot: string, plannedAt: number, count: number) =>
  `INSERT INTO scheduler_runs (id, slot, status, invoice_count, planned_at) VALUES ('${slot}', '${slot}', 'planned', ${count}, ${plannedAt})`

for (const engine of [sqlite(), postgres()]) {
  describe(`ledger reads on ${engine.name}`, () => {
    const opened: OpenLedger[] = []
    afterAll(async () => {
      await Promise.all(opened.map((l) => l.close()))
      await engine.tearDown()
    })

    it('answers times, counts and cast sums as numbers, with ? parameters bound in order', async () => {
      const { ledger, exec } = await engine.open()
      opened.push(ledger)
      await exec(run('a', 1_764_000_000_000, 8))
      await exec(run('b', 1_764_000_000_001, 12))
      const rows = await ledger.read.all(
        `SELECT count(*) AS n, CAST(sum(planned_at) AS BIGINT) AS total, max(invoice_count) AS most
         FROM scheduler_runs WHERE status = ? AND planned_at >= ?`,
        ['planned', 1_764_000_000_000],
      )
      expect(rows).toEqual([{ n: 2, total: 3_528_000_000_001, most: 12 }])
    })

    it('keeps one snapshot for every read inside it, while writes go on', async () => {
      const { ledger, exec } = await engine.open()
      opened.push(ledger)
      await exec(run('a', 1, 8))
      const seen = await ledger.read.snapshot(async (read) => {
        const before = await read.all<{ n: number }>('SELECT count(*) AS n FROM scheduler_runs')
        await exec(run('b', 2, 9))
        const after = await read.all<{ n: number }>('SELECT count(*) AS n FROM scheduler_runs')
        return [before[0]?.n, after[0]?.n]
      })
      expect(seen).toEqual([1, 1])
      expect(await ledger.read.all('SELECT count(*) AS n FROM scheduler_runs')).toEqual([{ n: 2 }])
    })

    it('lets snapshots taken at once each finish', async () => {
      const { ledger } = await engine.open()
      opened.push(ledger)
      const counts = await Promise.all(
        [1, 2, 3].map(() =>
          ledger.read.snapshot(
            async (read) => (await read.all('SELECT count(*) AS n FROM scheduler_runs')).length,
          ),
        ),
      )
      expect(counts).toEqual([1, 1, 1])
    })

    it("gives doctor the transfers not yet at Stark Bank, pending and held, and the ledger's migrations", async () => {
      const { ledger, exec } = await engine.open()
      opened.push(ledger)
      const planted: [string, number, string][] = [
        ['t1', 10_000, 'pending'],
        ['t2', 2_500, 'pending'],
        ['t3', 1_500_000, 'held'],
        ['t4', 7_000, 'created'],
        ['t5', 9_000, 'dead'],
      ]
      for (const [id, amount, status] of planted)
        await exec(
          `INSERT INTO transfers (id, invoice_stark_id, event_id, amount, status, request, created_at, updated_at)
           VALUES ('${id}', 'inv-${id}', 'evt-${id}', ${amount}, '${status}', '{}', 1, 1)`,
        )
      const probe = ledgerProbe(ledger)
      expect(await probe.transfersToSend()).toEqual({
        pending: { count: 2, cents: 12_500 },
        held: { count: 1, cents: 1_500_000 },
      })
      const migrations = await probe.migrations()
      expect(migrations.applied).toBe(migrations.known)
      expect(migrations.latestApplied).toBe(migrations.latestKnown)
      expect(migrations.known).toBeGreaterThan(0)
      expect(await probe.writable()).toBe(true)
    })
  })
}

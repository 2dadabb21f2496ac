import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { reconcileCommand } from '../src/adapters/cli/ledger-commands.ts'
import { openLedgerStores } from '../src/adapters/ledger/open.ts'
import { ledgerViews } from '../src/adapters/ledger/views.ts'
import { reconcileLedger } from '../src/app/reconcile-ledger.ts'
import { type BankEvent, decideBankEvent } from '../src/domain/bank-event.ts'
import { invoiceTag, runTag } from '../src/domain/invoice-batch.ts'
import type { Reconciliation } from '../src/domain/reconcile.ts'
import type { ReconcileOptions } from '../src/domain/reconcile-window.ts'
import { planTransfer } from '../src/domain/transfer.ts'
import type { Store } from '../src/ports/store.ts'
import { DESTINATION } from './support/ledger-fixture.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

// `ledger reconcile` on both engines over the same history, written through each engine's Store: a
// late payment (fine and interest), second credited logs, an invoice paybridge did not issue. The
// first credit counts; the rest are anomalies; the verdict is the same on SQLite and PostgreSQL.

const T = Date.UTC(2026, 2, 1, 10, 0, 0)
const NOW = T + 3_600_000

function credit(eventId: string, starkId: string, amount: number, fee: number, tags: string[]) {
  const event: BankEvent = {
    id: eventId,
    subscription: 'invoice',
    created: new Date(T).toISOString(),
    log: { id: `${eventId}9`, type: 'credited', invoice: { id: starkId, amount, fee, status: 'paid', tags } },
  }
  const decision = decideBankEvent(event, 'issued')
  const transfer =
    decision.kind === 'credit' ? planTransfer(starkId, decision.credited, DESTINATION) : undefined
  return { event, payload: JSON.stringify({ event }), decision, ...(transfer ? { transfer } : {}) }
}

async function writeHistory(store: Store) {
  const ids = ['run-1-0', 'run-1-1']
  const invoices = ids.map((id) => ({
    id,
    runId: 'run-1',
    name: `Payer ${id}`,
    taxId: '012.345.678-90',
    amount: 10_000,
    tags: [runTag('run-1'), invoiceTag(id)],
  }))
  await store.planRun({ id: 'run-1', slot: 'sched:1', invoices }, T)
  const tags = (id: string) => [runTag('run-1'), invoiceTag(id)]
  // The credit of run-1-0 beats the resume (lost create answer): matched by tag.
  await store.recordBankEvent(credit('8001', '7001', 10_300, 60, tags('run-1-0')), T + 1_000)
  await store.markRunIssued(
    'run-1',
    [
      { invoiceId: 'run-1-0', bankId: '7001' },
      { invoiceId: 'run-1-1', bankId: '7002' },
    ],
    T + 1_500,
  )
  await store.recordBankEvent(credit('8002', '7002', 10_000, 50, tags('run-1-1')), T + 1_600)
  const { claimed } = await store.claimTransfers(10, T + 2_000, 60_000)
  for (const [i, c] of claimed.entries())
    await store.transferCreated(c, { id: `900${i}`, status: 'success' }, T + 3_000)
  await store.recordBankEvent(credit('8003', '7001', 10_450, 60, tags('run-1-0')), T + 4_000)
  await store.recordBankEvent(credit('8004', '7002', 10_000, 50, tags('run-1-1')), T + 4_000)
  await store.recordBankEvent(credit('8005', '7003', 20_000, 100, ['their-own-tag']), T + 5_000)
}

describe('reconcile on SQLite and PostgreSQL', () => {
  const dir = tempDir('paybridge-reconcile-')
  let server: Postgres
  const results: Record<string, Reconciliation> = {}
  let readPg: (options: ReconcileOptions) => Promise<Reconciliation>
  let closePg: () => Promise<void>

  beforeAll(async () => {
    const sqlite = await openLedgerStores({
      databaseUrl: undefined,
      databasePath: join(dir.path, 'ledger.sqlite'),
    })
    await writeHistory(sqlite.store)
    results.sqlite = await reconcileLedger(ledgerViews(sqlite.read))({ now: NOW })
    await sqlite.close()
    server = await startPostgres()
    const pg = await openLedgerStores({
      databaseUrl: await server.createDatabase('reconcile_ledgers'),
      databasePath: '/nonexistent/unused.db',
    })
    await writeHistory(pg.store)
    readPg = reconcileLedger(ledgerViews(pg.read))
    closePg = () => pg.close()
    results.postgres = await readPg({ now: NOW })
  }, 60_000)
  afterAll(async () => {
    await closePg?.()
    await server?.stop()
    dir.cleanup()
  })

  for (const engine of ['sqlite', 'postgres']) {
    it(`reconciles on ${engine} with the first credits, later credits and an unissued invoice as anomalies`, () => {
      const result = results[engine]!
      expect(result.mismatches).toEqual([])
      expect(result.ok).toBe(true)
      expect(result.days).toEqual([
        expect.objectContaining({
          day: '2026-03-01',
          invoices: 3,
          credited: 10_240 + 9_950,
          transfersCreated: 10_240 + 9_950,
        }),
      ])
      expect(result.anomalies).toEqual([
        {
          kind: 'not-issued',
          day: '2026-03-01',
          invoiceId: 'external-7003',
          starkId: '7003',
          credited: 19_900,
        },
        expect.objectContaining({ kind: 'event', eventId: '8003', subjectId: '7001' }),
        expect.objectContaining({ kind: 'event', eventId: '8004', subjectId: '7002' }),
      ])
    })
  }

  it('answers the same on both engines', () => {
    expect(results.postgres).toEqual(results.sqlite!)
  })

  it('runs `ledger reconcile` on PostgreSQL with the same flags and exit codes', async () => {
    const out: string[] = []
    const err: string[] = []
    const io = {
      read: readPg,
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      clock: () => NOW,
    }
    expect(await reconcileCommand([], io)).toBe(0)
    expect(out.join('')).toContain('event 8004 (7002): anomaly')
    expect(await reconcileCommand(['--day', '2026-03-02'], io)).toBe(0)
    expect(await reconcileCommand(['--day', 'yesterday'], io)).toBe(2)
    expect(err.join('')).toContain('not a day')
  })
})

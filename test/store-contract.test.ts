import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'bun:test'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { consoleLog } from '../src/adapters/console-log.ts'
import { openPgLedger, type PgLedger } from '../src/adapters/ledger/postgres/database.ts'
import { postgresForwardStore } from '../src/adapters/ledger/postgres/forward-store.ts'
import { postgresStore } from '../src/adapters/ledger/postgres/store.ts'
import { type Ledger, openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteForwardStore } from '../src/adapters/ledger/sqlite/forward-store.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { invoiceIssuer } from '../src/app/issue-invoices.ts'
import { type BankEvent, decideBankEvent, type PayoutScope } from '../src/domain/bank-event.ts'
import { NOT_ISSUED_REASON } from '../src/domain/credit.ts'
import { invoiceTag, type PlannedInvoice, runIdForSlot, runTag } from '../src/domain/invoice-batch.ts'
import { seededRandom } from '../src/domain/random.ts'
import { type Destination, planTransfer } from '../src/domain/transfer.ts'
import type { Bank, NewInvoice } from '../src/ports/bank.ts'
import type { ForwardStore } from '../src/ports/forward-store.ts'
import type { RunClaim, Store } from '../src/ports/store.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

// One contract for the ledger, run against SQLite (a temp file) and PostgreSQL (a throwaway server):
// what each Store and ForwardStore step promises, including under concurrent callers.

const TABLES = ['scheduler_runs', 'invoices', 'events', 'transfers', 'outbox', 'dead_letters', 'forwards']
type Table = (typeof TABLES)[number]

interface Ledgers {
  store: Store
  forwards: ForwardStore
  close(): Promise<void>
}

interface Subject extends Ledgers {
  /** The same ledger opened again, as another paybridge process would. */
  open(): Promise<Ledgers>
  rows(table: Table): Promise<Record<string, unknown>[]>
  /** Leaves a claim on `runId` by a process that has since died. */
  claimByDeadProcess(runId: string): Promise<void>
}

interface Adapter {
  name: string
  setUp(): Promise<void>
  fresh(): Promise<Subject>
  tearDown(): Promise<void>
}

const sqlite = (): Adapter => {
  const dir = tempDir('paybridge-contract-')
  let n = 0
  return {
    name: 'sqlite',
    async setUp() {},
    async fresh() {
      const path = join(dir.path, `ledger-${++n}.sqlite`)
      const wrap = (ledger: Ledger): Ledgers => ({
        store: sqliteStore(ledger),
        forwards: sqliteForwardStore(ledger),
        close: async () => ledger.close(),
      })
      const main = openLedger(path)
      return {
        ...wrap(main),
        open: async () => wrap(openLedger(path)),
        rows: async (table) => main.sqlite.query(`select * from ${table}`).all() as Record<string, unknown>[],
        async claimByDeadProcess(runId) {
          const child = Bun.spawn(['true'])
          await child.exited
          main.sqlite.run('update scheduler_runs set claimed_by = ?, claimed_until = ? where id = ?', [
            `${hostname()}:${child.pid}:gone`,
            Date.now() + 3_600_000,
            runId,
          ])
        },
      }
    },
    tearDown: async () => dir.cleanup(),
  }
}

const postgres = (): Adapter => {
  let server: Postgres
  let url: string
  const open: PgLedger[] = []
  const wrap = async (): Promise<Ledgers & { ledger: PgLedger }> => {
    const ledger = await openPgLedger(url)
    open.push(ledger)
    return {
      ledger,
      store: postgresStore(ledger),
      forwards: postgresForwardStore(ledger),
      close: () => ledger.close(),
    }
  }
  return {
    name: 'postgres',
    async setUp() {
      server = await startPostgres()
      url = await server.createDatabase('store_contract')
    },
    async fresh() {
      const main = await wrap()
      await main.ledger.client.unsafe(`truncate ${TABLES.join(', ')}`)
      return {
        ...main,
        open: wrap,
        rows: async (table) => [...(await main.ledger.client.unsafe(`select * from ${table}`))],
        async claimByDeadProcess(runId) {
          const child = Bun.spawn(['true'])
          await child.exited
          await main.ledger.client.unsafe(
            'update scheduler_runs set claimed_by = $1, claimed_until = $2, claim_token = $3 where id = $4',
            [`${hostname()}:${child.pid}:gone`, Date.now() + 3_600_000, 'dead-token', runId],
          )
        },
      }
    },
    async tearDown() {
      await Promise.all(open.map((l) => l.close().catch(() => undefined)))
      await server?.stop()
    },
  }
}

const DESTINATION: Destination = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}
const T = 1_790_000_000_000

function planned(runId: string, count: number): PlannedInvoice[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${runId}-${i}`
    return {
      id,
      runId,
      name: `Payer ${i}`,
      taxId: '012.345.678-90',
      amount: 10_000 + i,
      tags: [runTag(runId), invoiceTag(id)],
    }
  })
}

/** A credited log; untagged and under PAYOUT_SCOPE=all unless told (what most cases need). */
function credited(
  eventId: string,
  invoiceId: string,
  amount = 10_000,
  fee = 50,
  options: { tags?: string[]; scope?: PayoutScope } = {},
) {
  const event: BankEvent = {
    id: eventId,
    subscription: 'invoice',
    created: new Date(T).toISOString(),
    log: {
      id: `log-${eventId}`,
      type: 'credited',
      invoice: { id: invoiceId, amount, fee, status: 'paid', tags: options.tags ?? [] },
    },
  }
  const decision = decideBankEvent(event, options.scope ?? 'all')
  const transfer =
    decision.kind === 'credit' ? planTransfer(invoiceId, decision.credited, DESTINATION) : undefined
  return { event, payload: JSON.stringify({ event }), decision, ...(transfer ? { transfer } : {}) }
}

function transferEvent(eventId: string, starkId: string, status: string, externalId?: string) {
  const event: BankEvent = {
    id: eventId,
    subscription: 'transfer',
    created: new Date(T).toISOString(),
    log: {
      id: `log-${eventId}`,
      type: status,
      transfer: { id: starkId, amount: 9_950, status, tags: [], ...(externalId ? { externalId } : {}) },
    },
  }
  return { event, payload: JSON.stringify({ event }), decision: decideBankEvent(event, 'issued') }
}

async function creditMany(store: Store, count: number, prefix = 'inv') {
  for (let i = 0; i < count; i++)
    await store.recordBankEvent(credited(`evt-${prefix}-${i}`, `${prefix}-${i}`), T)
}

/** The claimed rows only (what the relay works on). */
const claim = async (store: Store, ...args: Parameters<Store['claimTransfers']>) =>
  (await store.claimTransfers(...args)).claimed

const stripe = (id: string) => ({
  id,
  type: 'charge.succeeded',
  shape: 'raw' as const,
  body: `{"id":"${id}"}`,
})

for (const adapter of [sqlite(), postgres()]) {
  describe(`ledger contract on ${adapter.name}`, () => {
    let s: Subject
    const others: Ledgers[] = []
    const another = async () => {
      const o = await s.open()
      others.push(o)
      return o
    }

    beforeAll(() => adapter.setUp(), 60_000)
    afterAll(() => adapter.tearDown())
    beforeEach(async () => {
      s = await adapter.fresh()
    })
    afterEach(async () => {
      await Promise.all(others.splice(0).map((o) => o.close()))
      await s.close()
    })

    describe('invoice runs', () => {
      it('plans one run per slot and names the run that took it', async () => {
        expect(
          await s.store.planRun({ id: 'run-a', slot: 'sched:1', invoices: planned('run-a', 3) }, T),
        ).toEqual({
          kind: 'planned',
        })
        const again = await s.store.planRun(
          { id: 'run-b', slot: 'sched:1', invoices: planned('run-b', 2) },
          T + 1,
        )
        expect(again).toEqual({ kind: 'taken', runId: 'run-a' })
        expect((await s.rows('invoices')).length).toBe(3)
        expect(await s.store.lastRun()).toEqual({
          id: 'run-a',
          slot: 'sched:1',
          status: 'planned',
          plannedAt: T,
        })
      })

      it('plans exactly one run when many schedulers take the same slot at once', async () => {
        const stores = [s.store, (await another()).store, (await another()).store]
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            stores[i % stores.length]!.planRun(
              { id: 'run-x', slot: 'sched:x', invoices: planned('run-x', 4) },
              T,
            ),
          ),
        )
        expect(results.filter((r) => r.kind === 'planned').length).toBe(1)
        expect(
          results.filter((r) => r.kind === 'taken').every((r) => r.kind === 'taken' && r.runId === 'run-x'),
        ).toBe(true)
        expect((await s.rows('scheduler_runs')).length).toBe(1)
        expect((await s.rows('invoices')).length).toBe(4)
      })

      it('lists planned runs with their invoices until issued; a failure keeps the run and counts the attempt', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 2) }, T)
        await s.store.planRun({ id: 'run-2', slot: 'sched:2', invoices: planned('run-2', 3) }, T + 10)
        await s.store.markRunFailed('run-1', 'Stark Bank said 503', T + 20)
        const open = await s.store.unfinishedRuns()
        expect(open.map((r) => [r.id, r.slot, r.attempts, r.invoices.length])).toEqual([
          ['run-1', 'sched:1', 1, 2],
          ['run-2', 'sched:2', 0, 3],
        ])
        expect(open[0]!.invoices[0]).toEqual(planned('run-1', 2)[0]!)
        await s.store.markRunIssued(
          'run-1',
          [
            { invoiceId: 'run-1-0', bankId: 'bank-0' },
            { invoiceId: 'run-1-1', bankId: 'bank-1' },
          ],
          T + 30,
        )
        expect((await s.store.unfinishedRuns()).map((r) => r.id)).toEqual(['run-2'])
        expect((await s.store.lastRun())?.id).toBe('run-2')
      })

      it('lets one scheduler at a time claim a run, and none once it is issued', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        const other = await another()
        const claim = await s.store.claimRun('run-1', T, 60_000)
        expect(claim).toBeDefined()
        expect(await other.store.claimRun('run-1', T + 1, 60_000)).toBeUndefined()
        await claim!.release()
        const second = await other.store.claimRun('run-1', T + 2, 60_000)
        expect(second).toBeDefined()
        await s.store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: 'b0' }], T + 3)
        await second!.release()
        expect(await s.store.claimRun('run-1', T + 4, 60_000)).toBeUndefined()
        expect(await s.store.claimRun('no-such-run', T + 4, 60_000)).toBeUndefined()
      })

      it('gives exactly one of many concurrent claimers the run', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        const stores = [s.store, (await another()).store, (await another()).store]
        const claims = await Promise.all(stores.map((st) => st.claimRun('run-1', T, 60_000)))
        expect(claims.filter(Boolean).length).toBe(1)
        await Promise.all(claims.map((c) => c?.release()))
      })

      it('fences issuance by the claim: a claim that lost its lease to another stops and writes nothing', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 2) }, T)
        const other = await another()
        const a = await s.store.claimRun('run-1', T, 1_000)
        expect(a).toBeDefined()
        // Checking renews the lease: another scheduler still finds the run taken.
        expect(await a!.stillHeld(T + 500)).toBe(true)
        expect(await other.store.claimRun('run-1', T + 1_200, 60_000)).toBeUndefined()
        // A stalls (its connection dropped, its process paused) past its lease; B takes the run.
        const b = await other.store.claimRun('run-1', T + 1_501, 60_000)
        expect(b).toBeDefined()
        expect(await a!.stillHeld(T + 1_502)).toBe(false)
        const issued = [
          { invoiceId: 'run-1-0', bankId: '71' },
          { invoiceId: 'run-1-1', bankId: '72' },
        ]
        expect(await s.store.markRunIssued('run-1', issued, T + 1_503, a)).toEqual({ kind: 'stale' })
        expect((await s.rows('invoices')).map((i) => [i.status, i.stark_id])).toEqual([
          ['planned', null],
          ['planned', null],
        ])
        // A giving its claim back does not free B's.
        await a!.release()
        expect(await s.store.claimRun('run-1', T + 1_504, 60_000)).toBeUndefined()
        expect(await b!.stillHeld(T + 1_505)).toBe(true)
        expect(await other.store.markRunIssued('run-1', issued, T + 1_506, b)).toEqual({ kind: 'written' })
        expect((await s.store.unfinishedRuns()).map((r) => r.id)).toEqual([])
        expect(await b!.stillHeld(T + 1_507)).toBe(false) // issued: nothing left to hold
        await b!.release()
      })

      it('an issuer whose claim was taken over mid-issue creates no invoice at Stark Bank', async () => {
        let now = T
        const other = await another()
        let takenOver: RunClaim | undefined
        const createCalls: NewInvoice[][] = []
        const bank = {
          async findInvoices() {
            // This call stalls past the claim's lease, and another scheduler takes the run meanwhile.
            now += 11 * 60_000
            takenOver = await other.store.claimRun(runId, now, 60_000)
            return []
          },
          async createInvoices(invoices: NewInvoice[]) {
            createCalls.push(invoices)
            return invoices.map((inv, i) => ({
              id: `8${i}`,
              amount: inv.amount,
              fee: 0,
              status: 'created',
              tags: inv.tags,
            }))
          },
        } as unknown as Bank
        const quiet = consoleLog({ level: 'error', write: () => {} })
        const issuer = invoiceIssuer({
          store: s.store,
          bank,
          clock: () => now,
          random: seededRandom(7),
          log: quiet,
        })
        const runId = runIdForSlot(new Date(T), 'manual')
        const result = await issuer.runSlot(new Date(T), 'manual')
        expect(result).toEqual({ runId, planned: true, issued: false })
        expect(takenOver).toBeDefined()
        expect(createCalls).toEqual([])
        expect((await s.store.unfinishedRuns()).map((r) => [r.id, r.attempts])).toEqual([[runId, 0]])
        expect(await takenOver!.stillHeld(now + 1)).toBe(true)
        await takenOver!.release()
      })

      it('takes over at once a run whose claimant died mid-issue', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        await s.claimByDeadProcess('run-1')
        const claim = await s.store.claimRun('run-1', Date.now(), 60_000)
        expect(claim).toBeDefined()
        await claim!.release()
      })
    })

    describe('bank events', () => {
      it('records a credit once: the same event again is a duplicate and adds nothing', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        await s.store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: 'inv-1' }], T)
        const input = credited('evt-1', 'inv-1', 10_000, 50)
        expect(await s.store.recordBankEvent(input, T + 1)).toMatchObject({ kind: 'recorded' })
        expect(await s.store.recordBankEvent(input, T + 2)).toEqual({ kind: 'duplicate' })
        const [invoice] = await s.rows('invoices')
        expect(invoice).toMatchObject({ id: 'run-1-0', status: 'credited' })
        expect(Number(invoice!.fee)).toBe(50)
        const transfers = await s.rows('transfers')
        expect(transfers.map((t) => [t.id, Number(t.amount), t.status])).toEqual([
          ['paybridge-invoice-inv-1', 9_950, 'pending'],
        ])
        expect((await s.rows('events')).length).toBe(1)
        expect((await s.rows('outbox')).length).toBe(1)
      })

      it('pays a second credit of the same invoice (another event id) no second time', async () => {
        await s.store.recordBankEvent(credited('evt-1', 'inv-1'), T)
        expect(await s.store.recordBankEvent(credited('evt-2', 'inv-1'), T + 1)).toMatchObject({
          kind: 'recorded',
        })
        expect((await s.rows('events')).length).toBe(2)
        expect((await s.rows('transfers')).length).toBe(1)
        expect((await claim(s.store, 10, T + 2, 60_000)).length).toBe(1)
      })

      it('records one of many concurrent deliveries of one event, from several processes', async () => {
        const stores = [s.store, (await another()).store, (await another()).store]
        const input = credited('evt-1', 'inv-1')
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => stores[i % stores.length]!.recordBankEvent(input, T)),
        )
        expect(results.filter((r) => r.kind === 'recorded').length).toBe(1)
        expect((await s.rows('transfers')).length).toBe(1)
        expect((await s.rows('outbox')).length).toBe(1)
      })

      it('keeps a non-positive credit as a skipped transfer with nothing to send', async () => {
        expect(await s.store.recordBankEvent(credited('evt-1', 'inv-1', 50, 50), T)).toMatchObject({
          kind: 'recorded',
        })
        expect((await s.rows('transfers')).map((t) => t.status)).toEqual(['skipped'])
        expect(await claim(s.store, 10, T, 60_000)).toEqual([])
      })

      it('records a receive in one step exactly as event by event: known, tag-matched, unknown, later, duplicate, unpaid, ignored and transfer events', async () => {
        const issued = { scope: 'issued' as const }
        const receive = [
          credited('evt-a', '7001', 10_000, 50, issued),
          credited('evt-b', '7002', 10_001, 50, {
            ...issued,
            tags: [runTag('run-1'), invoiceTag('run-1-1')],
          }),
          credited('evt-c', '7003'),
          credited('evt-d', '7003', 10_400, 70),
          credited('evt-a', '7001', 10_000, 50, issued),
          credited('evt-e', '7004', 50, 50),
          credited('evt-f', '7005', 10_000, 50, { ...issued, tags: [invoiceTag('sched-elsewhere-01')] }),
          transferEvent('evt-g', '6001', 'success', 'paybridge-invoice-7003'),
          {
            ...credited('evt-h', '7006'),
            decision: { kind: 'ignore' as const, reason: 'invoice log "created"' },
          },
          credited('evt-z', '7007'),
          credited('evt-i', '7008'),
        ]
        // The ledger before the receive: two planned invoices (one at Stark Bank), one event recorded.
        const given = async (store: Store) => {
          await store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 2) }, T)
          await store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: '7001' }], T)
          await store.recordBankEvent(credited('evt-z', '7007'), T)
        }
        const ledgerRows = async (subject: Subject) => {
          const all: Record<string, unknown[]> = {}
          for (const table of ['invoices', 'events', 'transfers', 'outbox'] as const)
            all[table] = (await subject.rows(table)).sort((a, b) => String(a.id).localeCompare(String(b.id)))
          return all
        }
        await given(s.store)
        const oneByOne = []
        for (const input of receive) oneByOne.push(await s.store.recordBankEvent(input, T + 1))
        const expected = await ledgerRows(s)

        const other = await adapter.fresh()
        try {
          await given(other.store)
          expect(await other.store.recordBankEvents(receive, T + 1)).toEqual(oneByOne)
          expect(await ledgerRows(other)).toEqual(expected)
        } finally {
          await other.close()
        }
        expect(oneByOne.map((r) => (r.kind === 'recorded' ? r.effect : r.kind))).toEqual([
          'transfer-planned',
          'transfer-planned',
          'transfer-planned',
          'anomaly',
          'duplicate',
          'not-paid',
          'not-paid',
          'unmatched',
          'nothing',
          'duplicate',
          'transfer-planned',
        ])
      })

      it('records a receive of transfer events in one step exactly as one by one: applied in order, late, repeated, already recorded, kept until created, anomalous, after a credit of the same receive', async () => {
        // Three transfers created at Stark Bank (6101-6103), one claimed but not yet created (5104).
        const given = async (store: Store) => {
          for (const n of [1, 2, 3, 4]) await store.recordBankEvent(credited(`evt-c${n}`, `510${n}`), T)
          const claims = await claim(store, 10, T + 1, 60_000)
          const transferOf = (n: number) => {
            const c = claims.find((c) => c.transferId.endsWith(`510${n}`))
            if (!c) throw new Error(`no claim for invoice 510${n}`)
            return c
          }
          for (const n of [1, 2, 3])
            await store.transferCreated(transferOf(n), { id: `610${n}`, status: 'created' }, T + 2)
          await store.recordBankEvent(transferEvent('evt-t0', '6102', 'processing'), T + 3)
          return { transferOf }
        }
        const receive = (transferOf: (n: number) => { transferId: string }) => [
          transferEvent('evt-t1', '6101', 'processing'),
          transferEvent('evt-t2', '6101', 'success', transferOf(1).transferId),
          transferEvent('evt-t3', '6101', 'processing'),
          transferEvent('evt-t1', '6101', 'processing'),
          transferEvent('evt-t0', '6102', 'processing'),
          transferEvent('evt-t4', '6102', 'failed', transferOf(2).transferId),
          transferEvent('evt-t5', '6104', 'success', transferOf(4).transferId),
          transferEvent('evt-t6', '6199', 'success'),
          transferEvent('evt-t7', '6197', 'success', transferOf(3).transferId),
          credited('evt-c5', '5105'),
          transferEvent('evt-t8', '6105', 'created', 'paybridge-invoice-5105'),
          transferEvent('evt-t9', '6103', 'created'),
        ]
        const ledgerRows = async (subject: Subject) => {
          const all: Record<string, unknown[]> = {}
          for (const table of ['invoices', 'events', 'transfers', 'outbox'] as const)
            all[table] = (await subject.rows(table)).sort((a, b) => String(a.id).localeCompare(String(b.id)))
          return all
        }
        // The kept events are applied alike once their transfer is created.
        const thenCreated = async (
          store: Store,
          transferOf: (n: number) => Parameters<Store['transferCreated']>[0],
        ) => store.transferCreated(transferOf(4), { id: '6104', status: 'created' }, T + 5)

        const mine = await given(s.store)
        const oneByOne = []
        for (const input of receive(mine.transferOf))
          oneByOne.push(await s.store.recordBankEvent(input, T + 4))
        const expected = await ledgerRows(s)
        await thenCreated(s.store, mine.transferOf)
        const expectedAfter = await ledgerRows(s)

        const other = await adapter.fresh()
        try {
          const theirs = await given(other.store)
          expect(await other.store.recordBankEvents(receive(theirs.transferOf), T + 4)).toEqual(oneByOne)
          expect(await ledgerRows(other)).toEqual(expected)
          await thenCreated(other.store, theirs.transferOf)
          expect(await ledgerRows(other)).toEqual(expectedAfter)
        } finally {
          await other.close()
        }
        expect(oneByOne.map((r) => (r.kind === 'recorded' ? r.effect : r.kind))).toEqual([
          'status',
          'status',
          'status',
          'duplicate',
          'duplicate',
          'status',
          'unmatched',
          'unmatched',
          'anomaly',
          'transfer-planned',
          'unmatched',
          'status',
        ])
        const bankStatus = (rows: unknown[]) =>
          Object.fromEntries(
            (rows as { stark_id: string | null; bank_status: string | null }[]).map((t) => [
              t.stark_id,
              t.bank_status,
            ]),
          )
        expect(bankStatus(expected.transfers!)).toEqual({
          '6101': 'success',
          '6102': 'failed',
          '6103': 'created',
          null: null,
        })
        expect(bankStatus(expectedAfter.transfers!)['6104']).toBe('success')
      })

      it('records overlapping receives of transfer events from several processes at once: each event once, every transfer ends terminal', async () => {
        for (let i = 0; i < 10; i++) await s.store.recordBankEvent(credited(`evt-c${i}`, `${5200 + i}`), T)
        for (const [i, c] of (await claim(s.store, 10, T + 1, 60_000)).entries())
          await s.store.transferCreated(c, { id: `${6200 + i}`, status: 'created' }, T + 2)
        const stores = [s.store, (await another()).store, (await another()).store]
        const inputs = Array.from({ length: 10 }, (_, i) => [
          transferEvent(`evt-p${i}`, `${6200 + i}`, 'processing'),
          transferEvent(`evt-s${i}`, `${6200 + i}`, 'success'),
        ]).flat()
        const orders = [inputs, [...inputs].reverse(), [...inputs.slice(10), ...inputs.slice(0, 10)]]
        const results = await Promise.all(
          stores.map(async (store, p) => {
            const mine = orders[p] as typeof inputs
            const out = []
            for (let i = 0; i < mine.length; i += 5)
              for (const [k, r] of (await store.recordBankEvents(mine.slice(i, i + 5), T + 3)).entries())
                out.push({ id: mine[i + k]!.event.id, kind: r.kind })
            return out
          }),
        )
        const recorded = results.flat().filter((r) => r.kind === 'recorded')
        expect(recorded.map((r) => r.id).sort()).toEqual(inputs.map((i) => i.event.id).sort())
        expect((await s.rows('events')).length).toBe(30)
        expect((await s.rows('transfers')).map((t) => t.bank_status)).toEqual(Array(10).fill('success'))
      })

      it('records overlapping receives from several processes at once: each event once, one transfer per invoice', async () => {
        const stores = [s.store, (await another()).store, (await another()).store]
        const inputs = Array.from({ length: 30 }, (_, i) => credited(`evt-${i}`, `${8000 + i}`))
        // Each process gets the same events in another order, ten per receive (as SQS redelivers).
        const orders = [inputs, [...inputs].reverse(), [...inputs.slice(15), ...inputs.slice(0, 15)]]
        const results = await Promise.all(
          stores.map(async (store, p) => {
            const mine = orders[p] as typeof inputs
            const out = []
            for (let i = 0; i < mine.length; i += 10)
              for (const [k, r] of (await store.recordBankEvents(mine.slice(i, i + 10), T)).entries())
                out.push({ id: mine[i + k]!.event.id, kind: r.kind })
            return out
          }),
        )
        const recorded = results.flat().filter((r) => r.kind === 'recorded')
        expect(recorded.map((r) => r.id).sort()).toEqual(inputs.map((i) => i.event.id).sort())
        expect((await s.rows('transfers')).length).toBe(30)
        expect((await s.rows('outbox')).length).toBe(30)
        expect((await s.rows('events')).length).toBe(30)
      })
    })

    describe('transfer outbox', () => {
      it('leases claimed transfers and offers them again once the lease runs out', async () => {
        await creditMany(s.store, 3)
        const first = await claim(s.store, 2, T + 1, 1_000)
        expect(first.map((c) => c.attempt)).toEqual([1, 1])
        expect(first[0]!.plan).toMatchObject({ externalId: first[0]!.transferId, tags: expect.any(Array) })
        expect(first.every((c) => !c.approved)).toBe(true)
        const rest = await claim(s.store, 10, T + 2, 1_000)
        expect(rest.length).toBe(1)
        expect(await claim(s.store, 10, T + 500, 1_000)).toEqual([])
        const again = await claim(s.store, 10, T + 1_001, 1_000)
        expect(again.map((c) => c.transferId).sort()).toEqual(first.map((c) => c.transferId).sort())
        expect(again.map((c) => c.attempt)).toEqual([2, 2])
      })

      it('sends a created transfer no more and counts it in sentSince', async () => {
        await creditMany(s.store, 2)
        const [a, b] = await claim(s.store, 10, T, 1_000)
        await s.store.transferCreated(a!, { id: 'bank-a', status: 'created' }, T + 10)
        await s.store.transferCreated(b!, { id: 'bank-b', status: 'created' }, T + 20)
        expect(await claim(s.store, 10, T + 5_000, 1_000)).toEqual([])
        expect(await s.store.sentSince(T)).toBe(a!.plan.amount + b!.plan.amount)
        expect(await s.store.sentSince(T + 15)).toBe(b!.plan.amount)
        expect(await s.store.sentSince(T + 21)).toBe(0)
      })

      it('retries at the given time and never sends a dead transfer again', async () => {
        await creditMany(s.store, 2)
        const [a, b] = await claim(s.store, 10, T, 60_000)
        await s.store.transferRetry(a!, { error: 'HTTP 503', nextAttemptAt: T + 5_000 }, T + 1)
        await s.store.transferDead(b!, 'HTTP 400: invalid account', T + 1)
        expect(await claim(s.store, 10, T + 4_999, 60_000)).toEqual([])
        const retried = await claim(s.store, 10, T + 5_000, 60_000)
        expect(retried.map((c) => [c.transferId, c.attempt])).toEqual([[a!.transferId, 2]])
        const dead = (await s.rows('transfers')).find((t) => t.id === b!.transferId)
        expect(dead).toMatchObject({ status: 'dead', reason: 'HTTP 400: invalid account' })
      })

      it('holds a transfer over the limit at the claim until approved, then sends it approved on its first try', async () => {
        await creditMany(s.store, 1)
        const held = await s.store.claimTransfers(10, T, 60_000, { maxPerTransfer: 1, maxPerDay: 1_000_000 })
        expect(held.claimed).toEqual([])
        expect(held.held).toHaveLength(1)
        const c = held.held[0]
        expect(await claim(s.store, 10, T + 120_000, 60_000)).toEqual([])
        expect(await s.store.approveTransfer('nope', T + 2)).toEqual({ kind: 'unknown' })
        expect(await s.store.approveTransfer(c!.transferId, T + 2)).toEqual({ kind: 'approved' })
        expect(await s.store.approveTransfer(c!.transferId, T + 3)).toEqual({
          kind: 'not-held',
          status: 'pending',
        })
        const [approved] = await claim(s.store, 10, T + 3, 60_000)
        expect(approved).toMatchObject({ transferId: c!.transferId, attempt: 1, tries: 1, approved: true })
      })

      it('records an outcome only for the claim that owns the transfer; created never moves back', async () => {
        await creditMany(s.store, 1)
        const [old] = await claim(s.store, 10, T, 1_000)
        const [taken] = await claim(s.store, 10, T + 2_000, 1_000)
        expect(taken!.attempt).toBe(old!.attempt + 1)
        expect(await s.store.transferRetry(old!, { error: 'late', nextAttemptAt: T }, T + 3)).toEqual({
          kind: 'stale',
        })
        expect(await s.store.transferDead(old!, 'late', T + 3)).toEqual({ kind: 'stale' })
        expect(await s.store.transferCreated(taken!, { id: 'bank-1', status: 'created' }, T + 4)).toEqual({
          kind: 'written',
        })
        expect(await s.store.transferRetry(taken!, { error: 'again', nextAttemptAt: T }, T + 5)).toEqual({
          kind: 'stale',
        })
        expect(await s.store.transferCreated(old!, { id: 'bank-2', status: 'created' }, T + 6)).toEqual({
          kind: 'stale',
        })
        const [t] = await s.rows('transfers')
        expect(t).toMatchObject({ status: 'created', stark_id: 'bank-1' })
        expect((await s.rows('outbox'))[0]).toMatchObject({ status: 'done' })
        expect(await claim(s.store, 10, T + 3_600_000, 1_000)).toEqual([])
      })

      it('marks a relay batch created in one step exactly as one by one: a claim taken over is stale but its transfer created, one created before keeps its Stark Bank id, an early transfer event is applied', async () => {
        // Four transfers claimed by one relay; another relay took the last over after its lease ran out.
        const given = async (store: Store) => {
          await creditMany(store, 4, '9')
          const claims = await claim(store, 10, T, 1_000)
          const [taken] = await claim(store, 1, T + 2_000, 60_000)
          // Stark Bank's event for one of the others came before the relay's answer.
          const early = claims.findIndex((c) => c.transferId !== taken!.transferId)
          const ref = claims[early]!.transferId
          await store.recordBankEvent(transferEvent('evt-early', `bank-${early}`, 'success', ref), T + 3)
          // The relay that took one over recorded it created already, with its own Stark Bank id.
          await store.transferCreated(taken!, { id: `bank-${taken!.transferId}`, status: 'created' }, T + 4)
          return claims.map((c, i) => ({ claim: c, bank: { id: `bank-${i}`, status: 'created' } }))
        }
        const ledgerRows = async (subject: Subject) => {
          const all: Record<string, unknown[]> = {}
          for (const table of ['events', 'transfers', 'outbox'] as const)
            all[table] = (await subject.rows(table)).sort((a, b) => String(a.id).localeCompare(String(b.id)))
          return all
        }
        const batch = await given(s.store)
        const oneByOne = []
        for (const c of batch) oneByOne.push(await s.store.transferCreated(c.claim, c.bank, T + 5))
        const expected = await ledgerRows(s)

        const other = await adapter.fresh()
        try {
          const same = await given(other.store)
          expect(await other.store.transfersCreated(same, T + 5)).toEqual(oneByOne)
          expect(await ledgerRows(other)).toEqual(expected)
        } finally {
          await other.close()
        }
        expect(oneByOne.filter((r) => r.kind === 'stale').length).toBe(1)
        const rows = expected.transfers as { status: string; stark_id: string; bank_status: string }[]
        expect(rows.map((t) => t.status)).toEqual(['created', 'created', 'created', 'created'])
        expect(rows.filter((t) => t.bank_status === 'success').map((t) => t.stark_id)).toEqual([
          expect.stringMatching(/^bank-\d$/),
        ])
        expect(rows.filter((t) => t.stark_id.startsWith('bank-paybridge-')).length).toBe(1)
        expect((expected.outbox as { status: string }[]).every((o) => o.status === 'done')).toBe(true)
        expect((expected.events as { flag: unknown }[]).every((e) => e.flag === null)).toBe(true)
      })

      it('holds at the claim what would pass the daily limit, counting what other claims reserved', async () => {
        await creditMany(s.store, 4)
        const limits = { maxPerTransfer: 1_000_000, maxPerDay: 25_000 }
        const first = await s.store.claimTransfers(1, T, 60_000, limits)
        const second = await (await another()).store.claimTransfers(10, T, 60_000, limits)
        expect(first.claimed.length + second.claimed.length).toBe(2)
        expect(second.held.length).toBe(2)
        expect(second.held[0]!.reason).toContain('daily limit R$ 250.00 would be passed')
        // A dead transfer gives its reservation back.
        await s.store.transferDead(first.claimed[0]!, 'invalid account', T + 1)
        expect(await s.store.approveTransfer(second.held[0]!.transferId, T + 2)).toEqual({ kind: 'approved' })
        const replayed = await s.store.replayDeadTransfers({}, T + 3, { dryRun: true })
        expect(replayed.map((r) => r.transferId)).toEqual([first.claimed[0]!.transferId])
        expect((await s.rows('transfers')).filter((t) => t.status === 'dead').length).toBe(1)
        expect(await s.store.replayDeadTransfers({}, T + 3, { dryRun: false })).toEqual(replayed)
        // The approved one goes past the limit and reserves; the replayed one no longer fits beside it.
        const again = await s.store.claimTransfers(10, T + 4, 60_000, limits)
        expect(again.claimed.map((c) => [c.transferId, c.tries, c.approved])).toEqual([
          [second.held[0]!.transferId, 1, true],
        ])
        expect(again.held.map((h) => h.transferId)).toEqual([first.claimed[0]!.transferId])
      })

      it('never lets concurrent claimers together reserve more than the daily limit', async () => {
        await creditMany(s.store, 12)
        const stores = [s.store, (await another()).store, (await another()).store, (await another()).store]
        // Five transfers of 9,950 fit in 50,000; a sixth would pass it.
        const limits = { maxPerTransfer: 1_000_000, maxPerDay: 50_000 }
        const claims = await Promise.all(
          stores.map((store) => store.claimTransfers(3, T + 1, 60_000, limits)),
        )
        const claimed = claims.flatMap((c) => c.claimed)
        expect(claimed.reduce((sum, c) => sum + c.plan.amount, 0)).toBe(49_750)
        expect(claims.flatMap((c) => c.held).length).toBe(7)
      })

      it('never gives two concurrent claimers the same transfer', async () => {
        await creditMany(s.store, 120)
        const stores = [s.store, (await another()).store, (await another()).store, (await another()).store]
        const seen: string[] = []
        await Promise.all(
          Array.from({ length: 16 }, async (_, i) => {
            const store = stores[i % stores.length]!
            for (;;) {
              const claimed = await claim(store, 5, T + 1, 60_000)
              if (claimed.length === 0) return
              seen.push(...claimed.map((c) => c.transferId))
            }
          }),
        )
        expect(seen.length).toBe(120)
        expect(new Set(seen).size).toBe(120)
      })
    })

    describe('credits and transfer events (issue 11)', () => {
      const invoiceRows = async () =>
        (await s.rows('invoices'))
          .map((i) => ({
            id: i.id,
            stark_id: i.stark_id,
            status: i.status,
            credited_amount: i.credited_amount === null ? null : Number(i.credited_amount),
            fee: i.fee === null ? null : Number(i.fee),
          }))
          .sort((a, b) => String(a.id).localeCompare(String(b.id)))
      const transferRows = async () =>
        (await s.rows('transfers')).map((t) => ({
          id: t.id,
          amount: Number(t.amount),
          status: t.status,
          bank_status: t.bank_status,
          reason: t.reason,
        }))
      const eventRow = async (id: string) => (await s.rows('events')).find((e) => e.id === id)
      const tagged = (plannedId: string) => ({ tags: [runTag('run-1'), invoiceTag(plannedId)] })

      it('credits the planned invoice a payer paid before the resume, matched by its tag, and the resume adopts it', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        // The create answer was lost: the ledger has no Stark Bank id for run-1-0 when the credit comes.
        const paid = credited('evt-1', '5001', 10_000, 50, { ...tagged('run-1-0'), scope: 'issued' })
        expect(await s.store.recordBankEvent(paid, T + 1)).toMatchObject({ effect: 'transfer-planned' })
        expect(await invoiceRows()).toEqual([
          { id: 'run-1-0', stark_id: '5001', status: 'credited', credited_amount: 10_000, fee: 50 },
        ])
        await s.store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: '5001' }], T + 2)
        expect(await s.store.unfinishedRuns()).toEqual([])
        expect((await invoiceRows()).map((i) => i.status)).toEqual(['credited'])
        expect((await transferRows()).map((t) => [t.id, t.amount, t.status])).toEqual([
          ['paybridge-invoice-5001', 9_950, 'pending'],
        ])
      })

      it('adopts on resume the row kept for an untagged credit of one of its invoices instead of failing', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        await s.store.recordBankEvent(credited('evt-1', '5002'), T + 1)
        await s.store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: '5002' }], T + 2)
        expect(await s.store.unfinishedRuns()).toEqual([])
        expect(await invoiceRows()).toEqual([
          { id: 'run-1-0', stark_id: '5002', status: 'credited', credited_amount: 10_000, fee: 50 },
        ])
        expect((await transferRows()).map((t) => t.status)).toEqual(['pending'])
      })

      it('pays on resume an untagged credit kept unpaid under PAYOUT_SCOPE=issued once the run adopts it as its own invoice', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        // The create answer was lost and the payer's credit carries no tag: not known as paybridge's yet.
        const first = await s.store.recordBankEvent(
          credited('evt-1', '5012', 10_300, 60, { scope: 'issued' }),
          T + 1,
        )
        expect(first).toMatchObject({ effect: 'not-paid', outcome: NOT_ISSUED_REASON })
        expect(await claim(s.store, 10, T + 1, 60_000)).toEqual([])
        await s.store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: '5012' }], T + 2)
        // The resume found it is run-1-0: the skipped transfer becomes the real one, amount − fee of the
        // first credit, under the same externalId, with its outbox row (the relay sends it).
        expect(await transferRows()).toEqual([
          {
            id: 'paybridge-invoice-5012',
            amount: 10_240,
            status: 'pending',
            bank_status: null,
            reason: null,
          },
        ])
        const [sent] = await claim(s.store, 10, T + 3, 60_000)
        expect(sent).toMatchObject({
          transferId: 'paybridge-invoice-5012',
          plan: {
            externalId: 'paybridge-invoice-5012',
            amount: 10_240,
            accountNumber: DESTINATION.accountNumber,
          },
        })
        // Idempotent: marking it again adds nothing.
        await s.store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: '5012' }], T + 4)
        expect((await transferRows()).length).toBe(1)
      })

      it('records amount and fee at the first credit only; a later credit with fine and interest is an anomaly that changes nothing', async () => {
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        await s.store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: '5003' }], T)
        // Paid late: the planned 10 000 plus fine and interest.
        await s.store.recordBankEvent(credited('evt-1', '5003', 10_300, 60, { scope: 'issued' }), T + 1)
        const later = await s.store.recordBankEvent(
          credited('evt-2', '5003', 10_500, 70, { scope: 'issued' }),
          T + 2,
        )
        expect(later).toMatchObject({ kind: 'recorded', effect: 'anomaly' })
        expect(await invoiceRows()).toEqual([
          { id: 'run-1-0', stark_id: '5003', status: 'credited', credited_amount: 10_300, fee: 60 },
        ])
        expect((await transferRows()).map((t) => [t.amount, t.status])).toEqual([[10_240, 'pending']])
        expect(await eventRow('evt-2')).toMatchObject({
          flag: 'anomaly',
          outcome: expect.stringContaining('anomaly'),
        })
        expect((await eventRow('evt-1'))?.flag).toBeNull()
        expect((await claim(s.store, 10, T + 3, 60_000)).map((c) => c.plan.amount)).toEqual([10_240])
      })

      it('pays out under PAYOUT_SCOPE=issued only invoices a run of this ledger planned (a paybridge tag with no planned row is not enough); others are kept with a skipped transfer and the reason', async () => {
        const issued = { scope: 'issued' as const }
        const other = await s.store.recordBankEvent(
          credited('evt-1', '5004', 10_000, 50, { ...issued, tags: ['other-system'] }),
          T,
        )
        expect(other).toMatchObject({ effect: 'not-paid', outcome: NOT_ISSUED_REASON })
        // Paybridge's tag on an invoice this ledger has no planned row for: anyone can write a tag, so
        // it proves nothing; kept unpaid with the reason and flagged as an anomaly.
        const forged = await s.store.recordBankEvent(
          credited('evt-2', '5005', 10_000, 50, { ...issued, tags: [invoiceTag('sched-elsewhere-01')] }),
          T,
        )
        expect(forged).toMatchObject({
          effect: 'not-paid',
          outcome: expect.stringContaining(NOT_ISSUED_REASON),
        })
        expect(await eventRow('evt-2')).toMatchObject({
          flag: 'anomaly',
          outcome: expect.stringContaining('sched-elsewhere-01'),
        })
        // No tag, but a run of this ledger planned it (matched by Stark Bank id).
        await s.store.planRun({ id: 'run-1', slot: 'sched:1', invoices: planned('run-1', 1) }, T)
        await s.store.markRunIssued('run-1', [{ invoiceId: 'run-1-0', bankId: '5006' }], T)
        await s.store.recordBankEvent(credited('evt-3', '5006', 10_000, 50, issued), T)
        expect(await transferRows()).toEqual(
          expect.arrayContaining([
            {
              id: 'paybridge-invoice-5004',
              amount: 9_950,
              status: 'skipped',
              bank_status: null,
              reason: NOT_ISSUED_REASON,
            },
            expect.objectContaining({
              id: 'paybridge-invoice-5005',
              status: 'skipped',
              reason: NOT_ISSUED_REASON,
            }),
            expect.objectContaining({ id: 'paybridge-invoice-5006', status: 'pending' }),
          ]),
        )
        expect((await invoiceRows()).find((i) => i.stark_id === '5004')).toMatchObject({
          id: 'external-5004',
          status: 'credited',
        })
        expect((await claim(s.store, 10, T + 1, 60_000)).map((c) => c.transferId).sort()).toEqual([
          'paybridge-invoice-5006',
        ])
      })

      it('keeps a terminal bank status: a late processing overwrites neither success nor failed', async () => {
        await s.store.recordBankEvent(credited('evt-1', '5007'), T)
        await s.store.recordBankEvent(credited('evt-2', '5008'), T)
        const [a, b] = await claim(s.store, 10, T + 1, 60_000)
        await s.store.transferCreated(a!, { id: '6007', status: 'created' }, T + 2)
        await s.store.transferCreated(b!, { id: '6008', status: 'created' }, T + 2)
        const ids = { [a!.transferId]: '6007', [b!.transferId]: '6008' }
        const starkA = ids[a!.transferId]!
        const starkB = ids[b!.transferId]!
        await s.store.recordBankEvent(transferEvent('evt-3', starkA, 'success'), T + 3)
        await s.store.recordBankEvent(transferEvent('evt-4', starkB, 'failed'), T + 3)
        await s.store.recordBankEvent(transferEvent('evt-5', starkA, 'processing'), T + 4)
        await s.store.recordBankEvent(transferEvent('evt-6', starkB, 'processing'), T + 4)
        await s.store.recordBankEvent(transferEvent('evt-7', starkA, 'failed'), T + 5)
        const status = Object.fromEntries((await transferRows()).map((t) => [t.id, t.bank_status]))
        expect(status).toEqual({ [a!.transferId]: 'success', [b!.transferId]: 'failed' })
        expect((await eventRow('evt-5'))?.outcome).toContain('stays success')
      })

      it('keeps a transfer event that comes before its transfer is created and applies it when it is', async () => {
        await s.store.recordBankEvent(credited('evt-1', '5009'), T)
        const [c] = await claim(s.store, 10, T + 1, 60_000)
        // Stark Bank's events outrun the relay's answer: success, then processing, by externalId.
        const early = await s.store.recordBankEvent(
          transferEvent('evt-2', '6009', 'success', c!.transferId),
          T + 2,
        )
        expect(early).toMatchObject({ kind: 'recorded', effect: 'unmatched' })
        await s.store.recordBankEvent(transferEvent('evt-3', '6009', 'processing', c!.transferId), T + 3)
        expect((await eventRow('evt-2'))?.flag).toBe('unmatched')
        await s.store.transferCreated(c!, { id: '6009', status: 'created' }, T + 4)
        expect((await transferRows()).map((t) => [t.status, t.bank_status])).toEqual([['created', 'success']])
        expect((await eventRow('evt-2'))?.flag).toBeNull()
        expect((await eventRow('evt-3'))?.flag).toBeNull()
        // An event naming a transfer no one created is kept, with what finds it.
        await s.store.recordBankEvent(transferEvent('evt-4', '6010', 'success'), T + 5)
        expect(await eventRow('evt-4')).toMatchObject({ flag: 'unmatched', subject_id: '6010' })
      })
    })

    describe('dead letters', () => {
      it('keeps one row per queue and message id however often it is dead-lettered', async () => {
        const entry = {
          queue: 'stark-events',
          messageId: 'm-1',
          body: '{',
          reason: 'not JSON',
          receiveCount: 1,
        }
        await s.store.deadLetter(entry, T)
        await s.store.deadLetter({ ...entry, receiveCount: 2 }, T + 1)
        await s.store.deadLetter({ ...entry, queue: 'stripe-events' }, T + 2)
        const rows = await s.rows('dead_letters')
        expect(rows.map((r) => [r.queue, r.message_id, Number(r.receive_count)]).sort()).toEqual([
          ['stark-events', 'm-1', 1],
          ['stripe-events', 'm-1', 1],
        ])
      })
    })

    describe('Stripe forwards', () => {
      it('records a Stripe event once and leases its forward', async () => {
        expect(await s.forwards.recordStripeEvent(stripe('evt_1'), '{}', T)).toMatchObject({
          kind: 'recorded',
        })
        expect(await s.forwards.recordStripeEvent(stripe('evt_1'), '{}', T + 1)).toEqual({
          kind: 'duplicate',
        })
        const [c] = await s.forwards.claimForwards(10, T + 2, 1_000)
        expect(c).toEqual({
          id: 'evt_1',
          type: 'charge.succeeded',
          body: '{"id":"evt_1"}',
          attempt: 1,
          tries: 1,
          firstAttemptAt: T + 2,
        })
        expect(await s.forwards.claimForwards(10, T + 3, 1_000)).toEqual([])
        const [again] = await s.forwards.claimForwards(10, T + 1_002, 1_000)
        expect(again).toMatchObject({ attempt: 2, firstAttemptAt: T + 2 })
      })

      it('records an outcome only for the attempt that owns the forward', async () => {
        await s.forwards.recordStripeEvent(stripe('evt_1'), '{}', T)
        await s.forwards.claimForwards(10, T, 1_000)
        const [second] = await s.forwards.claimForwards(10, T + 1_000, 1_000)
        await s.forwards.forwardDead('evt_1', 1, { statusCode: 400, error: 'stale attempt' }, T + 1_001)
        expect((await s.rows('forwards'))[0]).toMatchObject({ status: 'pending' })
        await s.forwards.forwardRetry(
          'evt_1',
          second!.attempt,
          { statusCode: 503, error: 'busy', nextAttemptAt: T + 9_000 },
          T + 1_002,
        )
        expect(await s.forwards.claimForwards(10, T + 8_999, 1_000)).toEqual([])
        const [third] = await s.forwards.claimForwards(10, T + 9_000, 1_000)
        await s.forwards.forwardsDelivered([{ id: 'evt_1', statusCode: 200, latencyMs: 7 }], T + 9_001)
        expect(third!.attempt).toBe(3)
        expect((await s.rows('forwards'))[0]).toMatchObject({ status: 'delivered', last_error: null })
        expect(await s.forwards.claimForwards(10, T + 99_000, 1_000)).toEqual([])
      })

      it('replays dead forwards with a fresh window, and delivered ones only by force', async () => {
        for (const id of ['evt_dead', 'evt_ok']) await s.forwards.recordStripeEvent(stripe(id), '{}', T)
        const claimed = await s.forwards.claimForwards(10, T, 60_000)
        const attemptOf = (id: string) => claimed.find((c) => c.id === id)!.attempt
        await s.forwards.forwardDead(
          'evt_dead',
          attemptOf('evt_dead'),
          { statusCode: 400, error: 'HTTP 400' },
          T + 1,
        )
        await s.forwards.forwardsDelivered([{ id: 'evt_ok', statusCode: 200, latencyMs: 3 }], T + 1)
        const dry = await s.forwards.replayForwards({ since: T }, T + 2, { dryRun: true })
        expect(dry.map((e) => [e.id, e.status, e.action]).sort()).toEqual([
          ['evt_dead', 'dead', 'requeue'],
          ['evt_ok', 'delivered', 'skip-delivered'],
        ])
        expect(await s.forwards.claimForwards(10, T + 3, 60_000)).toEqual([])
        await s.forwards.replayForwards({ dead: true }, T + 4, { dryRun: false })
        const [revived] = await s.forwards.claimForwards(10, T + 5, 60_000)
        expect(revived).toMatchObject({ id: 'evt_dead', attempt: 2, tries: 1, firstAttemptAt: T + 5 })
        await s.forwards.replayForwards({ eventId: 'evt_ok', force: true }, T + 6, { dryRun: false })
        expect((await s.forwards.claimForwards(10, T + 7, 60_000)).map((c) => c.id)).toEqual(['evt_ok'])
      })

      it('a forward claim taken before a replay can never write after it: claim numbers keep increasing', async () => {
        await s.forwards.recordStripeEvent(stripe('evt_1'), '{}', T)
        const [stale] = await s.forwards.claimForwards(10, T, 1_000)
        // Its lease runs out mid-POST; the next claim ends the forward dead, and an operator replays it.
        const [next] = await s.forwards.claimForwards(10, T + 1_000, 1_000)
        await s.forwards.forwardDead(
          'evt_1',
          next!.attempt,
          { statusCode: 400, error: 'HTTP 400' },
          T + 1_001,
        )
        await s.forwards.replayForwards({ dead: true }, T + 2_000, { dryRun: false })
        const [replayed] = await s.forwards.claimForwards(10, T + 2_001, 60_000)
        expect(replayed).toMatchObject({ id: 'evt_1', tries: 1, firstAttemptAt: T + 2_001 })
        expect(replayed!.attempt).toBeGreaterThan(next!.attempt)
        // The first relay's POST finally fails: its outcome must not touch the replayed forward.
        await s.forwards.forwardDead('evt_1', stale!.attempt, { statusCode: 400, error: 'stale' }, T + 2_002)
        await s.forwards.forwardRetry(
          'evt_1',
          stale!.attempt,
          { statusCode: 503, error: 'stale', nextAttemptAt: T },
          T + 2_002,
        )
        expect((await s.rows('forwards'))[0]).toMatchObject({ status: 'pending', last_error: 'HTTP 400' })
        expect((await s.rows('outbox'))[0]).toMatchObject({ status: 'in_flight' })
        expect(await s.forwards.claimForwards(10, T + 3_000, 60_000)).toEqual([])
        await s.forwards.forwardRetry(
          'evt_1',
          replayed!.attempt,
          { statusCode: 503, error: 'busy', nextAttemptAt: T + 4_000 },
          T + 2_003,
        )
        const [after] = await s.forwards.claimForwards(10, T + 4_000, 60_000)
        expect(after).toMatchObject({ tries: 2, attempt: replayed!.attempt + 1 })
      })

      it('records several delivered forwards in one step, each with its own status code and latency', async () => {
        for (const id of ['evt_a', 'evt_b', 'evt_c']) await s.forwards.recordStripeEvent(stripe(id), '{}', T)
        await s.forwards.claimForwards(10, T + 1, 60_000)
        await s.forwards.forwardsDelivered(
          [
            { id: 'evt_a', statusCode: 200, latencyMs: 5 },
            { id: 'evt_c', statusCode: 204, latencyMs: 9 },
          ],
          T + 2,
        )
        const forwards = (await s.rows('forwards')).sort((a, b) => String(a.id).localeCompare(String(b.id)))
        expect(forwards.map((f) => [f.id, f.status, f.last_status_code, f.latency_ms])).toEqual([
          ['evt_a', 'delivered', 200, 5],
          ['evt_b', 'pending', null, null],
          ['evt_c', 'delivered', 204, 9],
        ])
        const outbox = (await s.rows('outbox')).sort((a, b) => String(a.id).localeCompare(String(b.id)))
        expect(outbox.map((o) => [o.id, o.status])).toEqual([
          ['forward-evt_a', 'done'],
          ['forward-evt_b', 'in_flight'],
          ['forward-evt_c', 'done'],
        ])
        // Delivered is final: the one left in flight is the only one a later claim can take.
        const later = await s.forwards.claimForwards(10, T + 60_001, 60_000)
        expect(later.map((c) => c.id)).toEqual(['evt_b'])
      })

      it('never gives two concurrent claimers the same forward', async () => {
        for (let i = 0; i < 80; i++) await s.forwards.recordStripeEvent(stripe(`evt_${i}`), '{}', T)
        const stores = [s.forwards, (await another()).forwards, (await another()).forwards]
        const seen: string[] = []
        await Promise.all(
          Array.from({ length: 12 }, async (_, i) => {
            const store = stores[i % stores.length]!
            for (;;) {
              const claimed = await store.claimForwards(4, T + 1, 60_000)
              if (claimed.length === 0) return
              seen.push(...claimed.map((c) => c.id))
            }
          }),
        )
        expect(seen.length).toBe(80)
        expect(new Set(seen).size).toBe(80)
      })

      it('dead-letters through the same table as the Store', async () => {
        await s.forwards.deadLetter(
          { queue: 'stripe-events', messageId: 'm', body: 'x', reason: 'r', receiveCount: 1 },
          T,
        )
        await s.forwards.deadLetter(
          { queue: 'stripe-events', messageId: 'm', body: 'x', reason: 'r', receiveCount: 1 },
          T,
        )
        expect((await s.rows('dead_letters')).length).toBe(1)
      })
    })
  })
}

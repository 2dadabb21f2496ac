import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { openPgLedger, type PgLedger } from '../src/adapters/postgres/database.ts'
import { postgresStore } from '../src/adapters/postgres/store.ts'
import { openLedger } from '../src/adapters/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/sqlite/store.ts'
import { type RelayOptions, transferRelay } from '../src/app/relay-transfers.ts'
import { type BankEvent, decideBankEvent } from '../src/domain/bank-event.ts'
import { type Destination, planTransfer } from '../src/domain/transfer.ts'
import { type Bank, BankError, type BankTransfer, type NewTransfer } from '../src/ports/bank.ts'
import type { Log } from '../src/ports/log.ts'
import type { Store } from '../src/ports/store.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

// The transfer relay under faults, with a fake Bank and the real stores on SQLite (one file, two
// connections) and PostgreSQL (one database, two pools): what two relays may and may not do to a
// transfer between them.

const T = Date.UTC(2026, 5, 1, 12)
const DESTINATION: Destination = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

interface Ledger {
  store: Store
  /** The same ledger opened again, as a second paybridge process would. */
  second: Store
  transfer(id: string): Promise<{ status: string; reason: string | null }>
  outbox(id: string): Promise<{ status: string }>
  close(): Promise<void>
}

interface Engine {
  name: string
  setUp(): Promise<void>
  open(): Promise<Ledger>
  tearDown(): Promise<void>
}

const sqlite = (): Engine => {
  const dir = tempDir('paybridge-relay-')
  let n = 0
  return {
    name: 'sqlite',
    setUp: async () => {},
    async open() {
      const path = join(dir.path, `ledger-${++n}.sqlite`)
      const a = openLedger(path)
      const b = openLedger(path)
      return {
        store: sqliteStore(a),
        second: sqliteStore(b),
        transfer: async (id) =>
          a.sqlite.query('select status, reason from transfers where id = ?').get(id) as {
            status: string
            reason: string | null
          },
        outbox: async (id) =>
          a.sqlite.query('select status from outbox where ref_id = ?').get(id) as { status: string },
        close: async () => {
          a.close()
          b.close()
        },
      }
    },
    tearDown: async () => dir.cleanup(),
  }
}

const postgres = (): Engine => {
  let server: Postgres
  let n = 0
  return {
    name: 'postgres',
    async setUp() {
      server = await startPostgres()
    },
    async open() {
      const url = await server.createDatabase(`relay_${++n}`)
      const a: PgLedger = await openPgLedger(url)
      const b: PgLedger = await openPgLedger(url)
      return {
        store: postgresStore(a),
        second: postgresStore(b),
        transfer: async (id) =>
          (await a.client.unsafe('select status, reason from transfers where id = $1', [id]))[0],
        outbox: async (id) => (await a.client.unsafe('select status from outbox where ref_id = $1', [id]))[0],
        close: async () => {
          await a.close()
          await b.close()
        },
      }
    },
    tearDown: async () => server?.stop(),
  }
}

/** A credited invoice's event, as the worker records it; the transfer is `amount - fee`. */
async function credit(store: Store, invoiceId: string, amount: number, fee = 0): Promise<string> {
  const event: BankEvent = {
    id: `evt-${invoiceId}`,
    subscription: 'invoice',
    created: new Date(T).toISOString(),
    log: {
      id: `log-${invoiceId}`,
      type: 'credited',
      invoice: { id: invoiceId, amount, fee, status: 'paid', tags: [] },
    },
  }
  const decision = decideBankEvent(event, 'all')
  if (decision.kind !== 'credit') throw new Error(`not a credit: ${decision.kind}`)
  const transfer = planTransfer(invoiceId, decision.credited, DESTINATION)
  await store.recordBankEvent({ event, payload: JSON.stringify({ event }), decision, transfer }, T)
  return transfer.externalId
}

const duplicateError = (externalId: string) =>
  new BankError('rejected', 'create transfers rejected', [
    {
      code: 'invalidExternalId',
      message: `externalId ${externalId} already exists: it must be unique among all your transfers`,
    },
  ])

/** Stark Bank as the relay sees it: transfers kept by externalId; each call can be scripted. */
function fakeBank() {
  const held: BankTransfer[] = []
  let seq = 0
  const accept = (plans: NewTransfer[]): BankTransfer[] => {
    const taken = plans.find((p) => held.some((t) => t.externalId === p.externalId))
    if (taken) throw duplicateError(taken.externalId)
    return plans.map((p) => {
      const t = {
        id: String(++seq),
        amount: p.amount,
        status: 'created',
        externalId: p.externalId,
        tags: p.tags,
      }
      held.push(t)
      return t
    })
  }
  const fake = {
    held,
    posts: 0,
    lookups: 0,
    /** Replaces a POST; `accept` is Stark Bank's own behaviour. */
    onCreate: async (plans: NewTransfer[]): Promise<BankTransfer[]> => accept(plans),
    /** Replaces a lookup's answer; `listed` is what Stark Bank holds with the tags. */
    onFind: async (listed: BankTransfer[]): Promise<BankTransfer[]> => listed,
    accept,
    bank: {
      createTransfers: async (plans: NewTransfer[]): Promise<BankTransfer[]> => {
        fake.posts++
        return fake.onCreate(plans)
      },
      findTransfers: async (tags: string[]): Promise<BankTransfer[]> => {
        fake.lookups++
        return fake.onFind(held.filter((t) => tags.every((tag) => t.tags.includes(tag))))
      },
      createInvoices: () => Promise.reject(new Error('not in this test')),
      findInvoices: () => Promise.reject(new Error('not in this test')),
      publicKey: () => Promise.reject(new Error('not in this test')),
      undeliveredEvents: () => Promise.reject(new Error('not in this test')),
      markEventDelivered: () => Promise.reject(new Error('not in this test')),
    } satisfies Bank,
  }
  return fake
}

function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = []
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, ...(fields ? { fields } : {}) })
    }
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Log
  return { log, lines }
}

for (const engine of [sqlite(), postgres()]) {
  describe(`transfer relay on ${engine.name}`, () => {
    let ledger: Ledger
    let now = T
    const clock = () => now
    const relay = (store: Store, bank: Bank, extra: Partial<RelayOptions> = {}) =>
      transferRelay({
        store,
        bank,
        clock,
        random: () => 0.5,
        log: recordingLog().log,
        leaseMs: 1_000,
        ...extra,
      })

    beforeAll(() => engine.setUp(), 60_000)
    afterAll(() => engine.tearDown())
    afterEach(async () => {
      await ledger?.close()
      now = T
    })

    it('a relay whose lease ran out cannot reopen a transfer another relay marked created', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      let answer: (() => void) | undefined
      const stuck = new Promise<void>((resolve) => {
        answer = resolve
      })
      // Relay A's POST hangs past its lease, then fails as if it timed out.
      bank.onCreate = async () => {
        await stuck
        throw new BankError('transient', 'create transfers failed: ETIMEDOUT')
      }
      const a = relay(ledger.store, bank.bank).relayOnce()
      while (bank.posts === 0) await Bun.sleep(5)

      now += 5_000
      bank.onCreate = async (plans) => bank.accept(plans)
      const b = await relay(ledger.second, bank.bank).relayOnce()
      expect(b).toMatchObject({ claimed: 1, created: 1 })

      answer?.()
      expect(await a).toMatchObject({ claimed: 1, retried: 0, stale: 1 })
      expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
      expect(await ledger.outbox(id)).toEqual({ status: 'done' })
      now += 3_600_000
      expect(await relay(ledger.store, bank.bank).relayOnce()).toMatchObject({ claimed: 0 })
      expect(bank.held.length).toBe(1)
    })

    it('a relay whose lease ran out cannot mark dead a transfer another relay marked created', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      let answer: (() => void) | undefined
      const stuck = new Promise<void>((resolve) => {
        answer = resolve
      })
      bank.onCreate = async () => {
        await stuck
        throw new BankError('rejected', 'create transfers rejected', [
          { code: 'invalidAccountNumber', message: 'the account does not exist' },
        ])
      }
      const a = relay(ledger.store, bank.bank).relayOnce()
      while (bank.posts === 0) await Bun.sleep(5)
      now += 5_000
      bank.onCreate = async (plans) => bank.accept(plans)
      await relay(ledger.second, bank.bank).relayOnce()
      answer?.()
      expect(await a).toMatchObject({ dead: 0, stale: 1 })
      expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
      expect(await ledger.outbox(id)).toEqual({ status: 'done' })
    })

    it('keeps a transfer Stark Bank refused as a duplicate open, looking it up until its list shows it', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      // The first POST creates the transfer but its answer is lost.
      bank.onCreate = async (plans) => {
        bank.accept(plans)
        throw new BankError('transient', 'create transfers failed: ECONNRESET')
      }
      // Stark Bank's lists lag: the next 6 lookups do not show the new transfer.
      let lagging = 6
      bank.onFind = async (listed) => (lagging-- > 0 ? [] : listed)
      const r = relay(ledger.store, bank.bank, { maxAttempts: 2 })
      await r.relayOnce()
      bank.onCreate = async (plans) => bank.accept(plans)
      for (let i = 0; i < 8 && (await ledger.transfer(id)).status !== 'created'; i++) {
        now += 10 * 60_000
        await r.relayOnce()
        const t = await ledger.transfer(id)
        if (t.status !== 'created') {
          expect(t.status).toBe('pending')
          expect(t.reason).toContain('exists at Stark Bank')
        }
      }
      expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
      expect(bank.held.length).toBe(1)
    })

    for (const fault of [
      { name: '401 invalidCredentials', status: 401, code: 'invalidCredentials' },
      { name: '401 invalidAccessTime', status: 401, code: 'invalidAccessTime' },
      { name: '403', status: 403, code: 'forbidden' },
    ]) {
      it(`stops sending on ${fault.name}, kills no transfer, and resumes after a probe`, async () => {
        ledger = await engine.open()
        const ids = [
          await credit(ledger.store, 'inv-1', 10_000),
          await credit(ledger.store, 'inv-2', 20_000),
          await credit(ledger.store, 'inv-3', 30_000),
        ]
        const bank = fakeBank()
        const refuse = async (): Promise<never> => {
          throw new BankError(
            'rejected',
            `rejected: ${fault.code}`,
            [{ code: fault.code, message: 'no' }],
            fault.status,
          )
        }
        bank.onCreate = refuse
        bank.onFind = refuse
        const { log, lines } = recordingLog()
        const circuit: [boolean, string | null][] = []
        const r = relay(ledger.store, bank.bank, {
          log,
          maxAttempts: 1,
          metrics: {
            relayCircuit: (open, reason) => circuit.push([open, reason]),
            relayStaleWrite: () => {},
          },
          circuitBackoff: { baseMs: 60_000, capMs: 60_000 },
        })
        expect(await r.relayOnce()).toMatchObject({ claimed: 3, released: 3, dead: 0 })
        for (const id of ids) {
          expect(await ledger.transfer(id)).toMatchObject({ status: 'pending' })
          expect(await ledger.outbox(id)).toEqual({ status: 'pending' })
        }
        expect(r.readiness()).toContain(fault.code)
        expect(circuit.at(-1)?.[0]).toBe(true)
        // Still refused at the first probe: one transfer tried, given back again, none dead.
        now += 60_000
        expect(await r.relayOnce()).toMatchObject({ claimed: 1, released: 1, dead: 0 })
        expect(await r.relayOnce()).toMatchObject({ claimed: 0 })
        expect(lines.filter((l) => l.level === 'error').length).toBe(1)

        bank.onCreate = async (plans) => bank.accept(plans)
        bank.onFind = async (listed) => listed
        now += 60_000
        expect(await r.relayOnce()).toMatchObject({ claimed: 1, created: 1 })
        expect(r.readiness()).toBe(true)
        expect(circuit.at(-1)).toEqual([false, null])
        await r.relayOnce()
        for (const id of ids) expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
        expect(bank.held.length).toBe(3)
      })
    }

    it('two relays claiming at once never pass the daily limit', async () => {
      ledger = await engine.open()
      for (let i = 0; i < 20; i++) await credit(ledger.store, `inv-${i}`, 10_000)
      const bank = fakeBank()
      // Every POST takes a while, so both relays have transfers in flight at once.
      bank.onCreate = async (plans) => {
        await Bun.sleep(30)
        return bank.accept(plans)
      }
      const limits = { maxPerTransfer: 1_000_000, maxPerDay: 55_000 }
      const relays = [ledger.store, ledger.second].map((s) =>
        relay(s, bank.bank, { limits, batchSize: 3, leaseMs: 60_000 }),
      )
      await Promise.all(
        relays.map(async (r) => {
          for (let i = 0; i < 10; i++) await r.relayOnce()
        }),
      )
      const sent = bank.held.reduce((sum, t) => sum + t.amount, 0)
      expect(sent).toBeLessThanOrEqual(55_000)
      expect(bank.held.length).toBe(5)
    })

    it('looks up a retried transfer before the limit: one already at the bank ends created, not held', async () => {
      ledger = await engine.open()
      const first = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      bank.onCreate = async (plans) => {
        bank.accept(plans)
        throw new BankError('transient', 'create transfers failed: ETIMEDOUT')
      }
      const limits = { maxPerTransfer: 1_000_000, maxPerDay: 15_000 }
      const r = relay(ledger.store, bank.bank, { limits })
      await r.relayOnce()
      // A second credit arrives while the first's outcome is unknown.
      bank.onCreate = async (plans) => bank.accept(plans)
      const second = await credit(ledger.store, 'inv-2', 10_000)
      now += 60_000
      await r.relayOnce()
      now += 60_000
      await r.relayOnce()
      expect(await ledger.transfer(first)).toMatchObject({ status: 'created' })
      expect(await ledger.transfer(second)).toMatchObject({ status: 'held' })
      expect(bank.held.map((t) => t.externalId)).toEqual([first])
    })
  })
}

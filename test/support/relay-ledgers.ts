import { join } from 'node:path'
import { openPgLedger, type PgLedger } from '../../src/adapters/ledger/postgres/database.ts'
import { postgresStore } from '../../src/adapters/ledger/postgres/store.ts'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../../src/adapters/ledger/sqlite/store.ts'
import { type BankEvent, decideBankEvent } from '../../src/domain/bank-event.ts'
import { type Destination, planTransfer } from '../../src/domain/transfer.ts'
import { type Bank, BankError, type BankTransfer, type NewTransfer } from '../../src/ports/bank.ts'
import type { Log } from '../../src/ports/log.ts'
import type { Store } from '../../src/ports/store.ts'
import { tempDir } from './paybridge.ts'
import { type Postgres, startPostgres } from './postgres.ts'

// For relay tests: the real stores on SQLite (one file, two connections) and PostgreSQL (one
// database, two pools), credited transfers to relay, and a fake Bank whose calls can be scripted.

export const T = Date.UTC(2026, 5, 1, 12)
export const DESTINATION: Destination = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

export interface Ledger {
  store: Store
  /** The same ledger opened again, as a second paybridge process would. */
  second: Store
  transfer(id: string): Promise<{ status: string; reason: string | null; unresolved_at: number | null }>
  outbox(id: string): Promise<{ status: string }>
  close(): Promise<void>
}

export interface Engine {
  name: string
  setUp(): Promise<void>
  open(): Promise<Ledger>
  tearDown(): Promise<void>
}

export const sqlite = (): Engine => {
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
          a.sqlite.query('select status, reason, unresolved_at from transfers where id = ?').get(id) as {
            status: string
            reason: string | null
            unresolved_at: number | null
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

export const postgres = (): Engine => {
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
          (
            await a.client.unsafe('select status, reason, unresolved_at from transfers where id = $1', [id])
          )[0],
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
export async function credit(store: Store, invoiceId: string, amount: number, fee = 0): Promise<string> {
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

export const duplicateError = (externalId: string) =>
  new BankError('rejected', 'create transfers rejected', [
    {
      code: 'invalidExternalId',
      message: `externalId ${externalId} already exists: it must be unique among all your transfers`,
    },
  ])

/** Stark Bank as the relay sees it: transfers kept by externalId; each call can be scripted. */
export function fakeBank() {
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
      webhooks: () => Promise.reject(new Error('not in this test')),
      registerWebhook: () => Promise.reject(new Error('not in this test')),
      removeWebhook: () => Promise.reject(new Error('not in this test')),
      balance: () => Promise.reject(new Error('not in this test')),
      serverTime: () => Promise.reject(new Error('not in this test')),
    } satisfies Bank,
  }
  return fake
}

export function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = []
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, ...(fields ? { fields } : {}) })
    }
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Log
  return { log, lines }
}

import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { consoleLog } from '../src/adapters/console-log.ts'
import { openPgLedger, type PgLedger } from '../src/adapters/ledger/postgres/database.ts'
import { postgresStore } from '../src/adapters/ledger/postgres/store.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { recordBankEvent } from '../src/app/record-bank-event.ts'
import { transferRelay } from '../src/app/relay-transfers.ts'
import { type Bank, BankError, type BankTransfer, type NewTransfer } from '../src/ports/bank.ts'
import type { Store } from '../src/ports/store.ts'
import { DESTINATION } from './support/ledger-fixture.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

// The relay's lease must outlast every Stark Bank call made under it, or another relay could take the
// rows and send them again mid-call. A fake Bank on a fake clock: each call takes the whole timeout.

const LEASE_MS = 3_000
const CALL_MS = 1_000
const quiet = consoleLog({ level: 'error', write: () => {} })

const credited = (n: number) =>
  JSON.stringify({
    event: {
      id: `10${n}`,
      subscription: 'invoice',
      created: '2026-11-25T12:00:00+00:00',
      log: {
        id: `20${n}`,
        type: 'credited',
        invoice: { id: `30${n}`, amount: 5_000 + n, fee: 50, status: 'paid', tags: [] },
      },
    },
  })

/** Stark Bank rejecting any batch of more than one (one bad transfer in it), each call taking CALL_MS. */
function slowBank(clock: { now: number }) {
  const calls: { kind: string; startedAt: number; endedAt: number; size: number }[] = []
  const atBank: BankTransfer[] = []
  const call = async <T>(kind: string, size: number, run: () => T): Promise<T> => {
    const startedAt = clock.now
    clock.now += CALL_MS
    calls.push({ kind, startedAt, endedAt: clock.now, size })
    return run()
  }
  const bank: Pick<Bank, 'createTransfers' | 'findTransfers'> = {
    createTransfers: (transfers: NewTransfer[]) =>
      call('create', transfers.length, () => {
        if (transfers.length > 1)
          throw new BankError('rejected', 'invalid transfer', [{ code: 'invalidTaxId', message: 'bad' }], 400)
        const created = transfers.map((t, i) => ({
          id: `9${atBank.length + i}`,
          amount: t.amount,
          status: 'created',
          externalId: t.externalId,
          tags: t.tags,
        }))
        atBank.push(...created)
        return created
      }),
    findTransfers: (tags: string[]) =>
      call('find', 1, () => atBank.filter((t) => tags.every((tag) => t.tags.includes(tag)))),
  }
  return { bank: bank as Bank, calls, atBank }
}

const adapters: { name: string; open(): Promise<{ store: Store; close(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = tempDir()
      const ledger = openLedger(join(dir.path, 'ledger.sqlite'))
      return {
        store: sqliteStore(ledger),
        close: async () => {
          ledger.close()
          dir.cleanup()
        },
      }
    },
  },
  {
    name: 'postgres',
    async open() {
      const ledger: PgLedger = await openPgLedger(await pg.createDatabase(`relay_lease_${++databases}`))
      return { store: postgresStore(ledger), close: () => ledger.close() }
    },
  },
]
let pg: Postgres
let databases = 0
beforeAll(async () => {
  pg = await startPostgres()
}, 60_000)
afterAll(() => pg?.stop())

describe.each(adapters)('transfer relay lease on $name', (adapter) => {
  it('starts no Stark Bank call its lease cannot cover; a rejected batch split into single sends goes on at the next claim', async () => {
    const { store, close } = await adapter.open()
    try {
      const clock = { now: 1_790_000_000_000 }
      const record = recordBankEvent({
        store,
        destination: DESTINATION,
        payoutScope: 'all',
        clock: () => clock.now,
        log: quiet,
      })
      for (let n = 1; n <= 5; n++) expect((await record(credited(n))).kind).toBe('done')
      const { bank, calls, atBank } = slowBank(clock)
      const relay = transferRelay({
        store,
        bank,
        clock: () => clock.now,
        random: () => 0.5,
        log: quiet,
        leaseMs: LEASE_MS,
        callTimeoutMs: CALL_MS,
      })
      const claims: { at: number; until: number }[] = []
      for (let round = 0; round < 20 && atBank.length < 5; round++) {
        claims.push({ at: clock.now, until: clock.now + LEASE_MS })
        const report = await relay.relayOnce()
        if (report.claimed === 0) clock.now += 500 // nothing due: the deferred rows wait for their lease
      }
      expect(atBank.length).toBe(5)
      expect(new Set(atBank.map((t) => t.externalId)).size).toBe(5)
      // Every call ended inside the lease of the claim it was made under.
      for (const c of calls) {
        const claim = [...claims].reverse().find((k) => k.at <= c.startedAt)
        expect(c.endedAt).toBeLessThanOrEqual(claim?.until ?? 0)
      }
    } finally {
      await close()
    }
  }, 60_000)
})

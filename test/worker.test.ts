import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { consoleLog } from '../src/adapters/console-log.ts'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import { type Ledger, openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { QueueConsumer } from '../src/app/consumer.ts'
import { type HandleResult, recordBankEvent, recordBankEvents } from '../src/app/record-bank-event.ts'
import { seededRandom } from '../src/domain/random.ts'
import type { Queue } from '../src/ports/queue.ts'
import { tempDir } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// The worker on a real ledger file and the embedded queue: what reaches the ledger, what is dead-lettered.

const destination = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

const creditedEvent = (id: string, invoiceId: string, amount = 10_000, fee = 50) =>
  JSON.stringify({
    event: {
      id,
      subscription: 'invoice',
      created: '2026-11-25T12:00:00+00:00',
      log: {
        id: `${id}9`,
        type: 'credited',
        invoice: { id: invoiceId, amount, fee, status: 'paid', tags: [] },
      },
    },
  })

describe('worker', () => {
  let dir: ReturnType<typeof tempDir>
  let ledger: Ledger
  let queue: Queue
  let consumer: QueueConsumer
  const logs: string[] = []

  const count = (table: string) =>
    (ledger.sqlite.query(`select count(*) as n from ${table}`).get() as { n: number }).n

  function startWorker(
    handle = recordBankEvent({
      store: sqliteStore(ledger),
      destination,
      payoutScope: 'all',
      clock: Date.now,
      log: quietLog(),
    }),
    handleBatch?: (bodies: string[]) => Promise<HandleResult[]>,
  ) {
    consumer = new QueueConsumer({
      queue,
      store: sqliteStore(ledger),
      log: quietLog(),
      clock: Date.now,
      random: seededRandom(1),
      concurrency: 4,
      visibilityMs: 1_000,
      waitMs: 100,
      maxBodyBytes: 64 * 1024,
      retry: { baseMs: 20, capMs: 50 },
      handle,
      handleBatch,
    })
    consumer.start()
  }
  const quietLog = () => consoleLog({ level: 'debug', format: 'json', write: (l) => logs.push(l) })

  beforeEach(() => {
    dir = tempDir()
    ledger = openLedger(join(dir.path, 'ledger.sqlite'))
    queue = sqliteQueue({ ledger, name: 'stark-events', visibilityTimeoutMs: 1_000, maxReceives: 3 })
    logs.length = 0
  })
  afterEach(async () => {
    await consumer.stop()
    ledger.close()
    dir.cleanup()
  })

  it('dead-letters bad messages with the reason and processes the messages behind them', async () => {
    await queue.send([
      { body: 'not json {' },
      { body: JSON.stringify({ event: { id: 7 } }) },
      {
        body: creditedEvent('4000000000001000', '4000000000002001').replace(
          '"paid"',
          `"${'x'.repeat(70 * 1024)}"`,
        ),
      },
      { body: creditedEvent('4000000000001002', '4000000000002003') },
    ])
    startWorker()
    await waitFor('queue drained', () => count('queue_messages') === 0)
    const dead = ledger.sqlite.query('select reason, body from dead_letters order by id').all() as {
      reason: string
      body: string
    }[]
    expect(dead.length).toBe(3)
    expect(dead.map((d) => d.reason)).toEqual(
      expect.arrayContaining([
        'body is not JSON',
        expect.stringContaining('not a Stark Bank event: event.id'),
        expect.stringContaining('over the 65536-byte limit'),
      ]),
    )
    expect(dead.find((d) => d.reason === 'body is not JSON')?.body).toBe('not json {')
    expect(count('events')).toBe(1)
    const transfer = ledger.sqlite.query('select id, amount, status from transfers').get()
    expect(transfer).toEqual({ id: 'paybridge-invoice-4000000000002003', amount: 9_950, status: 'pending' })
    expect(ledger.sqlite.query('select status, kind from outbox').get()).toEqual({
      status: 'pending',
      kind: 'transfer',
    })
  })

  it('records a second credited event for the same invoice without a second transfer', async () => {
    await queue.send([
      { body: creditedEvent('4000000000001004', '4000000000002005') },
      { body: creditedEvent('4000000000001006', '4000000000002005') },
    ])
    startWorker()
    await waitFor('queue drained', () => count('queue_messages') === 0)
    expect(count('events')).toBe(2)
    expect(count('transfers')).toBe(1)
    expect(count('outbox')).toBe(1)
  })

  it('records a credit whose fee eats the amount with the reason and no outbox row', async () => {
    await queue.send([{ body: creditedEvent('4000000000001007', '4000000000002008', 50, 50) }])
    startWorker()
    await waitFor('queue drained', () => count('queue_messages') === 0)
    expect(ledger.sqlite.query('select status, reason from transfers').get()).toEqual({
      status: 'skipped',
      reason: 'credited amount R$ 0.00 ≤ 0 (amount R$ 0.50, fee R$ 0.50)',
    })
    expect(count('outbox')).toBe(0)
  })

  it('retries a message whose handling fails, then the queue dead-letters it after max receives', async () => {
    await queue.send([{ body: creditedEvent('4000000000001009', '4000000000002010') }])
    let calls = 0
    startWorker(() => {
      calls++
      throw new Error('disk on fire')
    })
    await waitFor('message dead-lettered by the queue', () => count('dead_letters') === 1, 10_000)
    expect(calls).toBe(3)
    expect(
      (ledger.sqlite.query('select reason from dead_letters').get() as { reason: string }).reason,
    ).toContain('max receives')
    expect(
      logs.some((l) => l.includes('message handling failed; will retry') && l.includes('disk on fire')),
    ).toBe(true)
  })

  it('records a whole receive in one batch call, dead-letters what it cannot read, and acks them all', async () => {
    const batches: number[] = []
    const many = recordBankEvents({
      store: sqliteStore(ledger),
      destination,
      payoutScope: 'all',
      clock: Date.now,
      log: quietLog(),
    })
    await queue.send([
      { body: creditedEvent('4000000000001011', '4000000000002012') },
      { body: 'garbage' },
      { body: creditedEvent('4000000000001013', '4000000000002014') },
      { body: creditedEvent('4000000000001011', '4000000000002012') },
    ])
    startWorker(undefined, async (bodies) => {
      batches.push(bodies.length)
      return many(bodies)
    })
    await waitFor('queue drained', () => count('queue_messages') === 0)
    expect(batches).toEqual([4])
    expect(count('events')).toBe(2)
    expect(count('transfers')).toBe(2)
    expect(count('dead_letters')).toBe(1)
  })

  it('falls back to one message at a time when a batch fails, so one bad message holds up no other', async () => {
    const many = recordBankEvents({
      store: sqliteStore(ledger),
      destination,
      payoutScope: 'all',
      clock: Date.now,
      log: quietLog(),
    })
    await queue.send([
      { body: creditedEvent('4000000000001015', '4000000000002016') },
      { body: creditedEvent('4000000000001017', '4000000000002018') },
    ])
    startWorker(undefined, async (bodies) => {
      if (bodies.length > 1) throw new Error('ledger hiccup')
      return many(bodies)
    })
    await waitFor('queue drained', () => count('queue_messages') === 0)
    expect(count('transfers')).toBe(2)
    expect(logs.some((l) => l.includes('batch failed; handling its messages one at a time'))).toBe(true)
  })

  it('records the final status Stark Bank reports in a transfer event on the transfer', async () => {
    const store = sqliteStore(ledger)
    await queue.send([{ body: creditedEvent('4000000000001019', '4000000000002020') }])
    startWorker()
    await waitFor('credit recorded', () => count('transfers') === 1)
    const [claimed] = (await store.claimTransfers(10, Date.now(), 60_000)).claimed
    await store.transferCreated(claimed!, { id: '4000000000003022', status: 'created' }, Date.now())
    const transferEvent = (id: string, status: string) =>
      JSON.stringify({
        event: {
          id,
          subscription: 'transfer',
          created: '2026-11-25T12:00:00+00:00',
          log: {
            id: `${id}9`,
            type: status,
            transfer: { id: '4000000000003022', amount: 9_950, status, tags: [] },
          },
        },
      })
    await queue.send([{ body: transferEvent('4000000000001021', 'success') }])
    await waitFor('transfer event recorded', () => count('events') === 2)
    expect(ledger.sqlite.query('select status, bank_status from transfers').get()).toEqual({
      status: 'created',
      bank_status: 'success',
    })
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { SQSClient } from '@aws-sdk/client-sqs'
import { consoleLog } from '../src/adapters/console-log.ts'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { ensureQueue } from '../src/adapters/sqs/provision.ts'
import { sqsQueue } from '../src/adapters/sqs/queue.ts'
import { QueueConsumer } from '../src/app/consumer.ts'
import { seededRandom } from '../src/domain/random.ts'
import type { Queue } from '../src/ports/queue.ts'
import { type Fauxqs, fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { tempDir } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// Stopping the worker (SIGTERM) must neither lose a message nor make one wait out a visibility
// timeout: messages in hand finish and are acked; the rest are receivable at once.

let fauxqs: Fauxqs
const dir = tempDir('paybridge-drain-')
beforeAll(async () => {
  fauxqs = await startFauxqs()
})
afterAll(async () => {
  await fauxqs.stop()
  dir.cleanup()
})

const ledger = () => openLedger(join(dir.path, `ledger-${Math.random().toString(36).slice(2)}.sqlite`))

const queues: Record<string, () => Promise<{ queue: Queue; store: ReturnType<typeof sqliteStore> }>> = {
  embedded: async () => {
    const l = ledger()
    return {
      queue: sqliteQueue({ ledger: l, name: 'drain', visibilityTimeoutMs: 30_000 }),
      store: sqliteStore(l),
    }
  },
  sqs: async () => {
    const client = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs.endpoint })
    const name = `drain-${Math.random().toString(36).slice(2, 8)}`
    const queueUrl = await ensureQueue({
      client,
      name,
      fifo: false,
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 30,
    })
    return { queue: sqsQueue({ client, queueUrl, waitTimeSeconds: 20 }), store: sqliteStore(ledger()) }
  },
}

describe.each(Object.keys(queues))('draining the worker on the %s queue', (kind) => {
  it('finishes and acks the messages in hand, aborts the long poll, and leaves the rest visible at once', async () => {
    const { queue, store } = await queues[kind]!()
    await queue.send(Array.from({ length: 6 }, (_, i) => ({ body: `m${i}` })))
    const started: string[] = []
    const finished: string[] = []
    const consumer = new QueueConsumer({
      queue,
      store,
      log: consoleLog({ level: 'error', write: () => {} }),
      clock: Date.now,
      random: seededRandom(1),
      concurrency: 2,
      visibilityMs: 30_000,
      waitMs: 20_000,
      handle: async (body) => {
        started.push(body)
        await Bun.sleep(300)
        finished.push(body)
        return { kind: 'done', note: 'ok' }
      },
    })
    consumer.start()
    await waitFor('two messages in hand', () => started.length === 2)
    const stopAt = Date.now()
    await consumer.stop(5_000)
    const stopMs = Date.now() - stopAt
    expect(finished.sort()).toEqual(started.sort())
    expect(started.length).toBe(2)
    expect(stopMs).toBeLessThan(2_000)
    // The four not started are visible now, not after the 30 s visibility timeout.
    const seen = new Set<string>()
    const deadline = Date.now() + 3_000
    while (seen.size < 4 && Date.now() < deadline) {
      for (const m of await queue.receive({ max: 10, waitMs: 0 })) seen.add(m.body)
    }
    expect(seen.size).toBe(4)
    for (const body of started) expect(seen.has(body)).toBe(false)
  })
})

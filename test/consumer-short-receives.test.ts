import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { SQSClient } from '@aws-sdk/client-sqs'
import { consoleLog } from '../src/adapters/console-log.ts'
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

// Every SQS receive and delete is a request: a consumer that settles short receives handles a
// receive that drained the queue before it polls again, so what arrives meanwhile comes as one batch.

let fauxqs: Fauxqs
const dir = tempDir('paybridge-short-receives-')
beforeAll(async () => {
  fauxqs = await startFauxqs()
})
afterAll(async () => {
  await fauxqs.stop()
  dir.cleanup()
})

/** A queue on fauxqs that counts the receives started on it. */
async function countedQueue() {
  const client = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs.endpoint })
  const name = `short-${Math.random().toString(36).slice(2, 8)}`
  const queueUrl = await ensureQueue({
    client,
    name,
    fifo: false,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 30,
  })
  const sqs = sqsQueue({ client, queueUrl, waitTimeSeconds: 20 })
  const counted = { receives: 0 }
  const queue: Queue = {
    ...sqs,
    receive: (options) => {
      counted.receives++
      return sqs.receive(options)
    },
  }
  return { queue, counted }
}

function gatedConsumer(queue: Queue, settleShortReceives: boolean) {
  const batches: string[][] = []
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => (open = resolve))
  const consumer = new QueueConsumer({
    queue,
    store: sqliteStore(openLedger(join(dir.path, `${Math.random().toString(36).slice(2)}.sqlite`))),
    log: consoleLog({ level: 'error', write: () => {} }),
    clock: Date.now,
    random: seededRandom(1),
    concurrency: 10,
    maxPerReceive: 10,
    visibilityMs: 30_000,
    waitMs: 20_000,
    settleShortReceives,
    handle: async () => ({ kind: 'done', note: 'one' }),
    handleBatch: async (bodies) => {
      batches.push(bodies)
      await gate
      return bodies.map(() => ({ kind: 'done', note: 'batch' }))
    },
  })
  return { consumer, batches, open }
}

const bodies = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ body: `${prefix}${i}` }))

describe('a consumer that settles short receives', () => {
  it('polls again only once a short receive is handled, and takes what arrived meanwhile as one batch', async () => {
    const { queue, counted } = await countedQueue()
    await queue.send(bodies('a', 3))
    const { consumer, batches, open } = gatedConsumer(queue, true)
    consumer.start()
    await waitFor('the first batch in hand', () => batches.length === 1)
    await queue.send(bodies('b', 5))
    // Time for a second long poll to start and take the new messages, were one started.
    await Bun.sleep(300)
    expect(counted.receives).toBe(1)
    open()
    await waitFor('the second batch', () => batches.length === 2)
    expect(batches.map((b) => b.length)).toEqual([3, 5])
    await consumer.stop(1_000)
  })

  it('keeps polling beside a short receive in hand without the setting', async () => {
    const { queue, counted } = await countedQueue()
    await queue.send(bodies('a', 3))
    const { consumer, batches, open } = gatedConsumer(queue, false)
    consumer.start()
    await waitFor('the first batch in hand', () => batches.length === 1)
    await waitFor('a second receive started', () => counted.receives === 2)
    open()
    await consumer.stop(1_000)
  })

  it('stops while settling a short receive, within its drain timeout', async () => {
    const { queue } = await countedQueue()
    await queue.send(bodies('a', 2))
    const { consumer, batches, open } = gatedConsumer(queue, true)
    consumer.start()
    await waitFor('the batch in hand', () => batches.length === 1)
    // The batch is still held when stop() returns: the loop did not wait for it past the drain timeout.
    let released = false
    const stopped = consumer.stop(300).then(() => released)
    expect(await stopped).toBe(false)
    released = true
    open()
  })
})

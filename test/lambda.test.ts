import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { consoleLog } from '../src/adapters/console-log.ts'
import { type SqsLambdaEvent, sqsBatchHandler } from '../src/adapters/lambda/sqs-batch.ts'
import { type Ledger, openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { deadLetterQueueName, ensureQueue } from '../src/adapters/sqs/provision.ts'
import { recordBankEvent } from '../src/app/record-bank-event.ts'
import { drainHandler, handler as lambdaHandler } from '../src/lambda.ts'
import { LedgerUnavailable } from '../src/ports/store.ts'
import { fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { tempDir } from './support/paybridge.ts'

// The Lambda handler invoked with SQS event JSON as AWS sends it, over a real ledger file.

const destination = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}
const credited = (id: string, invoiceId: string) =>
  JSON.stringify({
    event: {
      id,
      subscription: 'invoice',
      created: '2026-11-25T12:00:00+00:00',
      log: {
        id: `${id}9`,
        type: 'credited',
        invoice: { id: invoiceId, amount: 5_000, fee: 50, status: 'paid', tags: [] },
      },
    },
  })
const record = (messageId: string, body: string, receives = 1, groupId?: string) => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: String(receives),
    SentTimestamp: '1764072000000',
    ...(groupId ? { MessageGroupId: groupId } : {}),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:stark-events',
  awsRegion: 'us-east-1',
})

describe('Lambda SQS handler', () => {
  let dir: ReturnType<typeof tempDir>
  let ledger: Ledger
  const count = (table: string) =>
    (ledger.sqlite.query(`select count(*) as n from ${table}`).get() as { n: number }).n

  beforeEach(() => {
    dir = tempDir()
    ledger = openLedger(join(dir.path, 'ledger.sqlite'))
  })
  afterEach(() => {
    ledger.close()
    dir.cleanup()
  })

  it('records good records, dead-letters bad ones, and reports only the failed ones for retry', async () => {
    const store = sqliteStore(ledger)
    const log = consoleLog({ level: 'error', write: () => {} })
    const recordEvent = recordBankEvent({ store, destination, payoutScope: 'all', clock: Date.now, log })
    let failNext = true
    const handler = sqsBatchHandler({
      store,
      clock: Date.now,
      log,
      handle: async (body) => {
        if (body.includes('4000000000000102') && failNext) {
          failNext = false
          throw new Error('database is locked')
        }
        return recordEvent(body)
      },
    })
    const event: SqsLambdaEvent = {
      Records: [
        record('m1', credited('4000000000000101', '4000000000000201')),
        record('m2', 'not json'),
        record('m3', credited('4000000000000102', '4000000000000202')),
        record('m4', credited('4000000000000101', '4000000000000201')), // the same event again
      ],
    }
    expect(await handler(event)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm3' }] })
    expect(count('events')).toBe(1)
    expect(count('transfers')).toBe(1)
    expect(ledger.sqlite.query('select queue, message_id, reason from dead_letters').all()).toEqual([
      { queue: 'stark-events', message_id: 'm2', reason: 'body is not JSON' },
    ])
    // SQS redelivers m3 alone; this time it succeeds.
    expect(
      await handler({ Records: [record('m3', credited('4000000000000102', '4000000000000202'), 2)] }),
    ).toEqual({
      batchItemFailures: [],
    })
    expect(count('transfers')).toBe(2)
  })

  it('in a FIFO batch, stops a message group at its first failed record and returns the rest of that group unprocessed', async () => {
    const store = sqliteStore(ledger)
    const log = consoleLog({ level: 'error', write: () => {} })
    const recordEvent = recordBankEvent({ store, destination, payoutScope: 'all', clock: Date.now, log })
    const handled: string[] = []
    const handler = sqsBatchHandler({
      store,
      clock: Date.now,
      log,
      handle: async (body) => {
        const id = (JSON.parse(body) as { event: { id: string } }).event.id
        handled.push(id)
        if (id === '4000000000000312') throw new Error('connection lost')
        return recordEvent(body)
      },
    })
    const event: SqsLambdaEvent = {
      Records: [
        record('a1', credited('4000000000000311', '4000000000000411'), 1, 'group-a'),
        record('b1', credited('4000000000000321', '4000000000000421'), 1, 'group-b'),
        record('a2', credited('4000000000000312', '4000000000000412'), 1, 'group-a'),
        record('b2', credited('4000000000000322', '4000000000000422'), 1, 'group-b'),
        record('a3', credited('4000000000000313', '4000000000000413'), 1, 'group-a'),
      ],
    }
    expect(await handler(event)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'a2' }, { itemIdentifier: 'a3' }],
    })
    expect(handled).toEqual(['4000000000000311', '4000000000000321', '4000000000000312', '4000000000000322'])
    expect(count('events')).toBe(3)
  })

  it('stops the batch at a ledger outage: the record that met it and every later one come back unprocessed, with one warning', async () => {
    const store = sqliteStore(ledger)
    const lines: string[] = []
    const log = consoleLog({ level: 'info', write: (line) => lines.push(line) })
    const recordEvent = recordBankEvent({ store, destination, payoutScope: 'all', clock: Date.now, log })
    const handled: string[] = []
    const handler = sqsBatchHandler({
      store,
      clock: Date.now,
      log,
      handle: async (body) => {
        const id = (JSON.parse(body) as { event: { id: string } }).event.id
        handled.push(id)
        if (id === '4000000000000612')
          throw new LedgerUnavailable('ledger unavailable: PostgreSQL SQLSTATE 25006: read-only transaction')
        return recordEvent(body)
      },
    })
    const event: SqsLambdaEvent = {
      Records: [
        record('c1', credited('4000000000000611', '4000000000000711')),
        record('c2', credited('4000000000000612', '4000000000000712')),
        record('c3', credited('4000000000000613', '4000000000000713'), 1, 'group-x'),
        record('c4', 'not json'),
      ],
    }
    expect(await handler(event)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'c2' }, { itemIdentifier: 'c3' }, { itemIdentifier: 'c4' }],
    })
    // Nothing after the outage was tried (not even the unreadable record: it is not dead-lettered yet).
    expect(handled).toEqual(['4000000000000611', '4000000000000612'])
    expect(count('events')).toBe(1)
    expect(count('dead_letters')).toBe(0)
    const outage = lines.filter((l) => l.includes('ledger unavailable'))
    expect(outage).toHaveLength(1)
    expect(outage[0]).toContain('3 records')
    expect(lines.filter((l) => l.includes('message handling failed'))).toEqual([])
  })

  it('retries a failed cold start on the next invocation instead of failing every later one', async () => {
    const saved = { ...process.env }
    const path = join(dir.path, 'lambda.sqlite')
    const keys = ['STARK_PROJECT_ID', 'STARK_PRIVATE_KEY', 'DATABASE_URL', 'SQS_QUEUE_URL', 'SQS_QUEUE_NAME']
    try {
      for (const key of keys) delete process.env[key]
      process.env.DATABASE_PATH = path
      process.env.LOG_LEVEL = 'loud' // not a level: the first build fails
      const batch = { Records: [record('m1', credited('4000000000000501', '4000000000000502'))] }
      await expect(lambdaHandler(batch)).rejects.toThrow('LOG_LEVEL')
      process.env.LOG_LEVEL = 'error'
      expect(await lambdaHandler(batch)).toEqual({ batchItemFailures: [] })
      const other = openLedger(path)
      expect(other.sqlite.query('select id from events').all()).toEqual([{ id: '4000000000000501' }])
      other.close()
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
      Object.assign(process.env, saved)
    }
  })
  it('drainHandler, run on a schedule, moves what SQS dead-lettered into the ledger dead letters', async () => {
    const fauxqs = await startFauxqs()
    const sqs = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs.endpoint })
    const saved = { ...process.env }
    const path = join(dir.path, 'drain.sqlite')
    try {
      await ensureQueue({ client: sqs, name: 'lambda-events', fifo: false, maxReceiveCount: 4 })
      const { QueueUrl } = await sqs.send(
        new GetQueueUrlCommand({ QueueName: deadLetterQueueName('lambda-events', false) }),
      )
      const body = credited('4000000000000801', '4000000000000802')
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }))
      for (const key of ['STARK_PROJECT_ID', 'STARK_PRIVATE_KEY', 'DATABASE_URL', 'SQS_QUEUE_URL'])
        delete process.env[key]
      Object.assign(process.env, {
        DATABASE_PATH: path,
        LOG_LEVEL: 'error',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        SQS_ENDPOINT: fauxqs.endpoint,
        SQS_QUEUE_NAME: 'lambda-events',
      })
      expect(await drainHandler()).toEqual({ moved: { 'lambda-events': 1 } })
      const kept = openLedger(path)
      expect(kept.sqlite.query('select queue, reason, body from dead_letters').all()).toEqual([
        { queue: 'lambda-events', reason: 'dead-lettered by SQS after 4 receives', body },
      ])
      kept.close()
      expect(await drainHandler()).toEqual({ moved: { 'lambda-events': 0 } })
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
      Object.assign(process.env, saved)
      sqs.destroy()
      await fauxqs.stop()
    }
  }, 30_000)
})

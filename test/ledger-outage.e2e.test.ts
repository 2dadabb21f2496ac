import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { SQL } from 'bun'
import { SQS_OUTAGE_RECEIVES } from '../src/adapters/open-queue.ts'
import { deadLetterQueueName } from '../src/adapters/sqs/provision.ts'
import { privateKeyFromPem, sign } from '../src/adapters/starkbank/ecdsa.ts'
import { creditedBody } from './fuzz/hostile-input.ts'
import { type Fauxqs, fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { type Rig, startRig } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { waitFor } from './support/wait.ts'

// A ledger outage longer than the queue's visibility timeout × max receives, with events already
// queued on SQS: the worker pauses instead of burning their receives, /readyz says why, and every
// event is recorded once the ledger is back; nothing reaches the DLQ or the ledger's dead letters.

const VISIBILITY_S = 1
const MAX_RECEIVES = 2
// SQS's redrive policy as paybridge provisions it: QUEUE_MAX_RECEIVES plus room for outages.
const REDRIVE_RECEIVES = MAX_RECEIVES + SQS_OUTAGE_RECEIVES
const OUTAGE_MS = VISIBILITY_S * 1000 * REDRIVE_RECEIVES + 3_000
const EVENTS = 20

/** Holds the SQLite file's write lock from another process for `ms`; resolves once it is held. */
async function lockFromAnotherProcess(path: string, ms: number) {
  const script = `
    import { Database } from 'bun:sqlite'
    const db = new Database(${JSON.stringify(path)})
    db.exec('PRAGMA busy_timeout = 10000')
    db.exec('BEGIN IMMEDIATE')
    console.log('locked')
    await Bun.sleep(${ms})
    db.exec('COMMIT')
  `
  const child = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'inherit' })
  const reader = child.stdout.getReader()
  const { value } = await reader.read()
  expect(new TextDecoder().decode(value)).toContain('locked')
  reader.releaseLock()
  return { released: child.exited }
}

describe.each(['sqlite', 'postgres'] as const)('a ledger outage on %s', (engine) => {
  let fauxqs: Fauxqs
  let pg: Postgres | undefined
  let pgUrl: string | undefined
  let sqs: SQSClient
  let rig: Rig
  const name = `outage-${engine}`

  beforeAll(async () => {
    fauxqs = await startFauxqs()
    process.env.AWS_ACCESS_KEY_ID = 'test'
    process.env.AWS_SECRET_ACCESS_KEY = 'test'
    sqs = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs.endpoint })
    if (engine === 'postgres') {
      pg = await startPostgres()
      pgUrl = await pg.createDatabase('outage')
    }
    rig = await startRig({
      env: {
        AWS_REGION: 'us-east-1',
        SQS_ENDPOINT: fauxqs.endpoint,
        SQS_QUEUE_NAME: name,
        QUEUE_VISIBILITY_MS: String(VISIBILITY_S * 1000),
        QUEUE_MAX_RECEIVES: String(MAX_RECEIVES),
        ...(pgUrl ? { DATABASE_URL: pgUrl } : {}),
      },
    })
  }, 60_000)
  afterAll(async () => {
    await rig?.stop()
    sqs?.destroy()
    await fauxqs?.stop()
    await pg?.stop()
  })

  async function count(table: 'events' | 'dead_letters'): Promise<number> {
    if (!pgUrl) {
      return (rig.ledgerFile.sqlite.query(`select count(*) as n from ${table}`).get() as { n: number }).n
    }
    const client = new SQL({ url: pgUrl, max: 1 })
    try {
      const [row] = await client.unsafe(`select count(*)::int as n from ${table}`)
      return (row as { n: number }).n
    } finally {
      await client.close()
    }
  }

  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${rig.paybridge.port}${path}`)
    return { status: res.status, text: await res.text() }
  }

  it('pauses the worker, shows why in /readyz and /metrics, and records every queued event afterwards; nothing is dead-lettered', async () => {
    // The outage starts with the events still on the queue.
    let outage: Promise<unknown>
    if (engine === 'sqlite')
      outage = (await lockFromAnotherProcess(rig.config.databasePath, OUTAGE_MS)).released
    else {
      await pg?.halt()
      outage = Bun.sleep(OUTAGE_MS)
    }
    const started = Date.now()
    await rig.paybridge.queue.send(
      Array.from({ length: EVENTS }, (_, i) => ({
        body: creditedBody(`71${String(i).padStart(14, '0')}`, `72${String(i).padStart(14, '0')}`),
      })),
    )

    const ready = await waitFor(
      'readyz to say the consumer is paused',
      async () => {
        const r = await get('/readyz')
        return r.status === 503 && r.text.includes('consumer paused') ? r : undefined
      },
      OUTAGE_MS - 2_000,
      200,
    )
    expect(JSON.parse(ready.text).checks.consumer.ok).toBe(false)
    const metrics = await get('/metrics')
    expect(metrics.text).toMatch(new RegExp(`paybridge_consumer_paused\\{queue="${name}"\\} [1-9]`))
    expect(metrics.text).toMatch(
      new RegExp(`paybridge_consumer_infrastructure_failures_total\\{queue="${name}"\\} [1-9]`),
    )
    expect(Date.now() - started).toBeLessThan(OUTAGE_MS)

    await outage
    if (engine === 'postgres') await pg?.restart()
    await waitFor(
      'every queued event recorded',
      async () => (await count('events')) === EVENTS,
      30_000,
      200,
    ).catch(async (err) => {
      // What the consumer said, to tell a pause that never ended from a message that was lost.
      console.error(
        rig.logs
          .filter((l) => /consum|dead|paus|resum|DBG/.test(l))
          .slice(0, 40)
          .join('\n'),
      )
      const { QueueUrl } = await sqs.send(
        new GetQueueUrlCommand({ QueueName: deadLetterQueueName(name, false) }),
      )
      const d = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          WaitTimeSeconds: 0,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      )
      console.error(
        'DLQ',
        d.Messages?.length,
        d.Messages?.map((m) => m.Attributes?.ApproximateReceiveCount),
      )
      throw err
    })
    await waitFor('readyz to be ready again', async () => (await get('/readyz')).status === 200, 15_000, 200)

    expect(await count('dead_letters')).toBe(0)
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: deadLetterQueueName(name, false) }),
    )
    const dlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }))
    expect(dlq.Messages ?? []).toEqual([])
    const lines = rig.logs.map((l) => JSON.parse(l) as { level: string; msg: string })
    expect(lines.filter((l) => l.msg.startsWith('consumer paused')).length).toBeGreaterThanOrEqual(1)
    expect(lines.filter((l) => l.msg.startsWith('consumer resumed')).length).toBeGreaterThanOrEqual(1)
    expect(lines.filter((l) => l.msg === 'message dead-lettered')).toEqual([])
    expect((await get('/metrics')).text).toMatch(
      new RegExp(`paybridge_consumer_paused\\{queue="${name}"\\} 0`),
    )
  }, 90_000)
})

describe('webhooks while another process holds the SQLite ledger (embedded queue)', () => {
  let rig: Rig
  beforeAll(async () => {
    rig = await startRig()
  }, 60_000)
  afterAll(async () => {
    await rig?.stop()
  })

  const deliver = async (id: string) => {
    const body = creditedBody(id, `${id.slice(0, -1)}9`)
    const started = Date.now()
    const res = await fetch(rig.webhookUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Digital-Signature': sign(body, privateKeyFromPem(rig.signingKey)),
      },
      body,
    })
    return { status: res.status, ms: Date.now() - started }
  }

  it('answers 503 within a few seconds and keeps serving other requests meanwhile; 200 once the lock is gone', async () => {
    expect((await deliver('7300000000000001')).status).toBe(200)
    const { released } = await lockFromAnotherProcess(rig.config.databasePath, 8_000)
    const webhook = deliver('7300000000000002')
    await Bun.sleep(300)
    const healthStarted = Date.now()
    const health = await fetch(`http://127.0.0.1:${rig.paybridge.port}/healthz`)
    const healthMs = Date.now() - healthStarted
    expect(health.status).toBe(200)
    // SQLite's own busy wait is 50 ms at a time; the rest of the wait is asynchronous.
    expect(healthMs).toBeLessThan(1_000)
    const answered = await webhook
    expect(answered.status).toBe(503)
    expect(answered.ms).toBeLessThan(4_000)
    await released
    expect((await deliver('7300000000000002')).status).toBe(200)
  }, 60_000)
})

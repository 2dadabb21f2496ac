import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs'
import { forwardsReplay } from '../src/adapters/cli/forwards-replay.ts'
import { type CliIo, stripeEnqueue } from '../src/adapters/cli/stripe-commands.ts'
import { consoleLog } from '../src/adapters/console-log.ts'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import { type Ledger, openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteForwardStore } from '../src/adapters/ledger/sqlite/forward-store.ts'
import { ensureQueue } from '../src/adapters/sqs/provision.ts'
import { sqsQueue } from '../src/adapters/sqs/queue.ts'
import { stripeSigner } from '../src/adapters/stripe/signature.ts'
import { stripeForwarding } from '../src/app/stripe-forwarding.ts'
import type { StripeConfig } from '../src/config.ts'
import { seededRandom } from '../src/domain/random.ts'
import { classifyStatus, nextStep, retryAfterMs } from '../src/domain/stripe-event.ts'
import type { Queue } from '../src/ports/queue.ts'
import { type Fauxqs, fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { viewsOf } from './support/ledger-views.ts'
import { tempDir } from './support/paybridge.ts'
import { type StripeDownstream, startStripeDownstream } from './support/stripe-downstream.ts'
import { waitFor } from './support/wait.ts'

// The Stripe forwarder over the real SQS-compatible server (fauxqs) and the embedded queue, delivering
// to a downstream that checks every request with the official stripe package.

const SECRET = 'whsec_paybridge_test_secret'
let fauxqs: Fauxqs
let client: SQSClient
let counter = 0
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}${++counter}`

beforeAll(async () => {
  fauxqs = await startFauxqs()
  client = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs.endpoint })
})
afterAll(async () => {
  client?.destroy()
  await fauxqs?.stop()
})

const stripeEvent = (id = unique('evt'), type = 'invoice.paid', extra: Record<string, unknown> = {}) => ({
  id,
  object: 'event',
  api_version: '2024-06-20',
  created: 1_764_000_000,
  type,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  data: { object: { id: 'in_1Q2w3E', object: 'invoice', amount_paid: 4200, ...extra } },
})
type StripeEventJson = ReturnType<typeof stripeEvent>
const bridge = (e: StripeEventJson) =>
  JSON.stringify({
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': e.type,
    source: 'aws.partner/stripe.com/ed_test_61Q',
    account: '123456789012',
    time: '2026-11-25T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: e,
  })
const sns = (message: string) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: crypto.randomUUID(),
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:stripe-events',
    Message: message,
    Timestamp: '2026-11-25T12:00:00.000Z',
    SignatureVersion: '1',
  })

interface Rig {
  ledger: Ledger
  queue: Queue
  downstream: StripeDownstream
  logs: string[]
  /** Outcomes the relay reported to metrics, in order. */
  calls: (number | string)[]
  forward(id: string): {
    status: string
    attempts: number
    last_status_code: number | null
    last_error: string | null
  }
  count(sql: string): number
  /** SQS: nothing visible or in flight; embedded: no rows left. */
  drained(): Promise<boolean>
  replay(args: string[]): Promise<{ code: number; out: string; err: string }>
  stop(): Promise<void>
}

const rigs: Rig[] = []
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop()
})

async function rig(
  options: {
    embedded?: boolean
    timeoutMs?: number
    forMs?: number
    concurrency?: number
    /** Where the forwarder posts instead of the downstream stand-in. */
    serviceUrl?: string
  } = {},
): Promise<Rig> {
  const dir = tempDir('paybridge-stripe-')
  const ledger = openLedger(join(dir.path, 'ledger.sqlite'))
  const downstream = await startStripeDownstream({ secret: SECRET })
  let queue: Queue
  let queueUrl = ''
  if (options.embedded) {
    queue = sqliteQueue({ ledger, name: 'stripe-events', visibilityTimeoutMs: 2_000, maxReceives: 3 })
  } else {
    queueUrl = await ensureQueue({ client, name: unique('stripe-events'), fifo: false, maxReceiveCount: 3 })
    queue = sqsQueue({ client, queueUrl, visibilityTimeoutSeconds: 2 })
  }
  const logs: string[] = []
  const log = consoleLog({ level: 'debug', format: 'json', write: (l) => logs.push(l) })
  const config: StripeConfig = {
    serviceUrl: options.serviceUrl ?? downstream.url,
    webhookSecret: SECRET,
    queue: undefined,
    timeoutMs: options.timeoutMs ?? 2_000,
    concurrency: options.concurrency ?? 4,
    retry: { baseMs: 50, capMs: 400, forMs: options.forMs ?? 60_000 },
  }
  const store = sqliteForwardStore(ledger)
  const calls: (number | string)[] = []
  const forwarding = stripeForwarding({
    metrics: { downstreamCall: (outcome) => void calls.push(outcome) },
    store,
    queue,
    config,
    sign: stripeSigner(SECRET),
    log,
    clock: Date.now,
    random: seededRandom(7),
    tuning: { pollIntervalMs: 20, waitMs: 200, visibilityMs: 2_000, maxBodyBytes: 64 * 1024 },
  })
  forwarding.start()
  const r: Rig = {
    ledger,
    queue,
    downstream,
    logs,
    calls,
    forward: (id) =>
      ledger.sqlite
        .query('select status, attempts, last_status_code, last_error from forwards where id = ?')
        .get(id) as ReturnType<Rig['forward']>,
    count: (sql) => (ledger.sqlite.query(sql).get() as { n: number }).n,
    async drained() {
      if (options.embedded)
        return r.count("select count(*) as n from queue_messages where queue = 'stripe-events'") === 0
      const out = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
      return (
        Number(out.Attributes?.ApproximateNumberOfMessages) === 0 &&
        Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible) === 0
      )
    },
    async replay(args) {
      const io = captureIo()
      const code = await forwardsReplay(args, { store, clock: Date.now, log, io })
      return { code, out: io.output.join(''), err: io.errors.join('') }
    },
    async stop() {
      await forwarding.stop()
      await downstream.stop()
      ledger.close()
      dir.cleanup()
    },
  }
  rigs.push(r)
  return r
}

function captureIo(stdin = ''): CliIo & { output: string[]; errors: string[] } {
  const output: string[] = []
  const errors: string[] = []
  return {
    output,
    errors,
    out: (t) => void output.push(t),
    err: (t) => void errors.push(t),
    stdin: async () => stdin,
  }
}

const settled = (r: Rig, id: string, status = 'delivered') =>
  waitFor(`forward ${id} ${status}`, () => r.forward(id)?.status === status, 10_000)

describe('Stripe forwarder over SQS (fauxqs)', () => {
  it('delivers a raw event, an EventBridge envelope and SNS notifications once each, signed for constructEvent', async () => {
    const r = await rig()
    const a = stripeEvent()
    const b = stripeEvent()
    const c = stripeEvent()
    const d = stripeEvent()
    // Pretty-printed: the raw shape is forwarded byte for byte, whitespace included.
    const rawBody = JSON.stringify(a, null, 2)
    await r.queue.send([
      { body: rawBody },
      { body: bridge(b) },
      { body: sns(JSON.stringify(c)) },
      { body: sns(bridge(d)) },
    ])
    for (const e of [a, b, c, d]) await settled(r, e.id)
    await waitFor('queue drained', () => r.drained())
    await Bun.sleep(200)
    for (const e of [a, b, c, d]) expect(r.downstream.delivered(e.id)).toBe(1)
    expect(r.downstream.deliveries.every((x) => x.verified && x.attempt === 1)).toBe(true)
    expect(r.downstream.deliveries.every((x) => x.contentType === 'application/json')).toBe(true)
    const bodyOf = (id: string) => r.downstream.deliveries.find((x) => x.eventId === id)?.body
    expect(bodyOf(a.id)).toBe(rawBody)
    expect(bodyOf(b.id)).toBe(JSON.stringify(b))
    expect(bodyOf(c.id)).toBe(JSON.stringify(c))
    expect(bodyOf(d.id)).toBe(JSON.stringify(d))
    const shapes = r.ledger.sqlite.query('select id, shape from forwards').all() as {
      id: string
      shape: string
    }[]
    expect(Object.fromEntries(shapes.map((s) => [s.id, s.shape]))).toEqual({
      [a.id]: 'raw',
      [b.id]: 'eventbridge',
      [c.id]: 'sns',
      [d.id]: 'sns',
    })
    expect(
      r.count("select count(*) as n from events where source = 'stripe' and subscription = 'invoice'"),
    ).toBe(4)
    const views = viewsOf(r.ledger)
    const view = await views.rows('forwards')
    await views.close()
    expect(view).toHaveLength(4)
    expect(view[0]).toMatchObject({ status: 'delivered', attempts: 1, last_status: '200', error: '' })
  })

  it('delivers an event once when it arrives three times, in any shape', async () => {
    const r = await rig()
    const e = stripeEvent()
    await r.queue.send([{ body: JSON.stringify(e) }])
    await r.queue.send([{ body: bridge(e) }])
    await r.queue.send([{ body: sns(JSON.stringify(e)) }])
    await settled(r, e.id)
    await waitFor('queue drained', () => r.drained())
    await Bun.sleep(200)
    expect(r.downstream.delivered(e.id)).toBe(1)
    expect(r.downstream.deliveries).toHaveLength(1)
    expect(r.count('select count(*) as n from events')).toBe(1)
    expect(r.count('select count(*) as n from outbox')).toBe(1)
    expect(r.logs.filter((l) => l.includes('not forwarded again'))).toHaveLength(2)
  })

  it('retries a 500 and delivers once', async () => {
    const r = await rig()
    const e = stripeEvent()
    r.downstream.script(e.id, { status: 500, body: 'database down' })
    await r.queue.send([{ body: JSON.stringify(e) }])
    await settled(r, e.id)
    const seen = r.downstream.deliveries.filter((x) => x.eventId === e.id)
    expect(seen.map((x) => [x.attempt, x.answered])).toEqual([
      [1, 500],
      [2, 200],
    ])
    expect(r.downstream.delivered(e.id)).toBe(1)
    expect(r.forward(e.id)).toMatchObject({
      status: 'delivered',
      attempts: 2,
      last_status_code: 200,
      last_error: null,
    })
    expect(r.calls).toEqual([500, 200])
  })

  it('waits out a 429 Retry-After before the next attempt', async () => {
    const r = await rig()
    const e = stripeEvent()
    r.downstream.script(e.id, { status: 429, retryAfter: '1' })
    await r.queue.send([{ body: JSON.stringify(e) }])
    await settled(r, e.id)
    const [first, second] = r.downstream.deliveries.filter((x) => x.eventId === e.id)
    expect(first?.answered).toBe(429)
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_000)
    expect(r.downstream.delivered(e.id)).toBe(1)
  })

  it('gives up at once on a 400 and keeps the start of the answer', async () => {
    const r = await rig()
    const e = stripeEvent()
    r.downstream.script(e.id, { status: 400, body: `No such customer: 'cus_9'${'.'.repeat(2_000)}` })
    await r.queue.send([{ body: JSON.stringify(e) }])
    await settled(r, e.id, 'dead')
    await Bun.sleep(300)
    expect(r.downstream.deliveries.filter((x) => x.eventId === e.id)).toHaveLength(1)
    const row = r.forward(e.id)
    expect(row).toMatchObject({ status: 'dead', attempts: 1, last_status_code: 400 })
    expect(row.last_error).toStartWith("HTTP 400: No such customer: 'cus_9'...")
    expect(row.last_error!.length).toBeLessThanOrEqual(520)
    expect(r.count("select count(*) as n from outbox where status = 'dead'")).toBe(1)
  })

  it('counts a POST the Stripe service never answered (connection refused) as a network failure and retries it', async () => {
    // Port 1 on loopback: nothing listens, so every POST fails before any answer.
    const r = await rig({ embedded: true, serviceUrl: 'http://127.0.0.1:1/' })
    const e = stripeEvent()
    await r.queue.send([{ body: JSON.stringify(e) }])
    await waitFor('two network failures reported', () => r.calls.filter((c) => c === 'network').length >= 2)
    expect(r.calls.every((c) => c === 'network')).toBe(true)
    const row = r.forward(e.id)
    expect(row.status).toBe('pending')
    expect(row.last_error).toStartWith('network error')
  })

  it('retries a downstream that hangs past the timeout', async () => {
    const r = await rig({ timeoutMs: 300 })
    const e = stripeEvent()
    r.downstream.script(e.id, { hang: true })
    await r.queue.send([{ body: JSON.stringify(e) }])
    await settled(r, e.id)
    const seen = r.downstream.deliveries.filter((x) => x.eventId === e.id)
    expect(seen.map((x) => x.answered)).toEqual(['hang', 200])
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(300)
    expect(r.logs.some((l) => l.includes('no answer within 300 ms'))).toBe(true)
    expect(r.calls).toEqual(['timeout', 200])
  })

  it('declares a forward dead when the retry window runs out', async () => {
    const r = await rig({ forMs: 400 })
    const e = stripeEvent()
    r.downstream.script(e.id, ...Array.from({ length: 50 }, () => ({ status: 503 })))
    await r.queue.send([{ body: JSON.stringify(e) }])
    await settled(r, e.id, 'dead')
    const row = r.forward(e.id)
    expect(row.attempts).toBeGreaterThan(1)
    expect(row.last_error).toContain('gave up after')
    expect(row.last_status_code).toBe(503)
  })

  it('keeps at most `concurrency` POSTs in flight to a slow downstream', async () => {
    const r = await rig({ concurrency: 3 })
    const batch = Array.from({ length: 12 }, () => stripeEvent())
    r.downstream.script('*', ...batch.map(() => ({ status: 200, delayMs: 100 })))
    await r.queue.send(batch.map((e) => ({ body: JSON.stringify(e) })))
    for (const e of batch) await settled(r, e.id)
    expect(r.downstream.maxConcurrent()).toBe(3)
    expect([...r.downstream.deliveredCounts().values()]).toEqual(batch.map(() => 1))
    const latencies = r.ledger.sqlite.query('select latency_ms as ms from forwards').all() as { ms: number }[]
    expect(latencies.every((l) => l.ms >= 100)).toBe(true)
  })

  it('dead-letters poison messages with the reason and delivers the rest', async () => {
    const r = await rig()
    const good = stripeEvent()
    const poison = [
      'not json {',
      JSON.stringify({ hello: 'world' }),
      JSON.stringify({ ...stripeEvent(), object: 'charge' }),
      JSON.stringify({ ...stripeEvent(), id: 'ch_123' }),
      sns('<xml/>'),
      JSON.stringify({ Type: 'SubscriptionConfirmation', SubscribeURL: 'https://example.invalid' }),
      JSON.stringify({ 'detail-type': 'invoice.paid', source: 'x', detail: { id: 'evt_1' } }),
      JSON.stringify(stripeEvent(undefined, 'invoice.paid', { pad: 'x'.repeat(70 * 1024) })),
    ]
    await r.queue.send([...poison.map((body) => ({ body })), { body: JSON.stringify(good) }])
    await settled(r, good.id)
    await waitFor(
      'every poison message dead-lettered',
      () => r.count('select count(*) as n from dead_letters') === 8,
    )
    await waitFor('queue drained', () => r.drained())
    const reasons = (
      r.ledger.sqlite.query('select reason from dead_letters').all() as { reason: string }[]
    ).map((d) => d.reason)
    expect(reasons).toEqual(
      expect.arrayContaining([
        'body is not JSON',
        expect.stringContaining('not a Stripe event: id'),
        expect.stringContaining('not a Stripe event: object'),
        'SNS Message: SNS Message is not JSON',
        expect.stringContaining('not an SNS notification: Type'),
        expect.stringContaining('not an EventBridge envelope: detail.object'),
        expect.stringContaining('over the 65536-byte limit'),
      ]),
    )
    expect(r.downstream.deliveries.map((d) => d.eventId)).toEqual([good.id])
    expect(r.count('select count(*) as n from forwards')).toBe(1)
  })

  it('replays a dead event once, and sends a delivered one again only with --force', async () => {
    const r = await rig()
    const e = stripeEvent()
    r.downstream.script(e.id, { status: 422, body: 'customer locked' })
    await r.queue.send([{ body: JSON.stringify(e) }])
    await settled(r, e.id, 'dead')

    const dry = await r.replay(['--dead', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.out).toContain(e.id)
    expect(dry.out).toContain('dry run: nothing changed')
    expect(r.forward(e.id).status).toBe('dead')

    const replayed = await r.replay(['--dead'])
    expect(replayed.code).toBe(0)
    expect(replayed.out).toContain('will send 1 of 1')
    expect(replayed.out).toContain('put 1 forward(s) back in the outbox')
    await settled(r, e.id)
    expect(r.forward(e.id)).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 })

    const again = await r.replay(['--event', e.id])
    expect(again.out).toContain('skip: delivered (--force to send)')
    expect(again.out).toContain('nothing to send')
    await Bun.sleep(200)
    expect(r.downstream.delivered(e.id)).toBe(1)

    const forced = await r.replay(['--event', e.id, '--force'])
    expect(forced.code).toBe(0)
    await waitFor('forced resend', () => r.downstream.delivered(e.id) === 2)

    expect((await r.replay([])).code).toBe(2)
    expect((await r.replay(['--since', 'yesterday'])).code).toBe(2)
    expect((await r.replay(['--event', 'evt_unknown'])).code).toBe(1)
  })
})

describe('Stripe forwarder over the embedded queue', () => {
  it('takes events from `stripe enqueue`, delivers each once and dead-letters the rest', async () => {
    const r = await rig({ embedded: true })
    const a = stripeEvent()
    const b = stripeEvent(undefined, 'customer.subscription.updated')
    const lines = [JSON.stringify(a), bridge(b), sns(JSON.stringify(a)), JSON.stringify(b)].join('\n')
    const io = captureIo(lines)
    // Scripted before the events are queued: the forwarder may POST them as soon as they are.
    r.downstream.script(b.id, { status: 502 })
    expect(await stripeEnqueue(['-'], { queue: r.queue, io })).toBe(0)
    expect(io.output.join('')).toContain('queued 4 event(s) on stripe-events (embedded)')
    await r.queue.send([{ body: '{"object":"event"}' }])
    await settled(r, a.id)
    await settled(r, b.id)
    await waitFor('queue drained', () => r.drained())
    await Bun.sleep(200)
    expect(r.downstream.delivered(a.id)).toBe(1)
    expect(r.downstream.delivered(b.id)).toBe(1)
    expect(r.forward(b.id).attempts).toBe(2)
    expect(r.count("select count(*) as n from events where source = 'stripe'")).toBe(2)
    expect(r.logs.filter((l) => l.includes('not forwarded again'))).toHaveLength(2)
    expect(r.count('select count(*) as n from dead_letters')).toBe(1)
  })

  it('refuses to enqueue input with a bad item and sends nothing', async () => {
    const r = await rig({ embedded: true })
    const io = captureIo(JSON.stringify([stripeEvent(), { id: 'evt_2', object: 'charge' }]))
    expect(await stripeEnqueue(['-'], { queue: r.queue, io })).toBe(1)
    expect(io.errors.join('')).toContain('item 2: not a Stripe event: object')
    expect(await stripeEnqueue([], { queue: r.queue, io })).toBe(2)
    expect(r.count('select count(*) as n from queue_messages')).toBe(0)
  })
})

describe('Stripe delivery rules', () => {
  it('classifies answers: 2xx delivered, 408/425/429/5xx retried, other statuses refused', () => {
    const table = [200, 204, 301, 400, 401, 404, 408, 409, 425, 429, 500, 503].map((s) => [
      s,
      classifyStatus(s),
    ])
    expect(Object.fromEntries(table)).toEqual({
      200: 'delivered',
      204: 'delivered',
      301: 'reject',
      400: 'reject',
      401: 'reject',
      404: 'reject',
      408: 'retry',
      409: 'reject',
      425: 'retry',
      429: 'retry',
      500: 'retry',
      503: 'retry',
    })
  })

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-25T12:00:00Z')
    expect(retryAfterMs('120', now)).toBe(120_000)
    expect(retryAfterMs('Wed, 25 Nov 2026 12:00:30 GMT', now)).toBe(30_000)
    expect(retryAfterMs('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0)
    expect(retryAfterMs('soon', now)).toBeUndefined()
    expect(retryAfterMs(null, now)).toBeUndefined()
  })

  it('retries within the window, pulls the last try in to its end, then gives up', () => {
    const window = { baseMs: 1_000, capMs: 60_000, forMs: 10_000 }
    const random = () => 0.5
    expect(nextStep({ attempt: 1, firstAttemptAt: 0, now: 100, window, random })).toEqual({
      kind: 'retry',
      at: 850,
      delayMs: 750,
    })
    expect(nextStep({ attempt: 9, firstAttemptAt: 0, now: 9_000, window, random })).toEqual({
      kind: 'retry',
      at: 10_000,
      delayMs: 1_000,
    })
    expect(nextStep({ attempt: 10, firstAttemptAt: 0, now: 10_000, window, random }).kind).toBe('dead')
    expect(
      nextStep({ attempt: 1, firstAttemptAt: 0, now: 0, window, random, retryAfterMs: 5_000 }),
    ).toMatchObject({ at: 5_000 })
  })
})

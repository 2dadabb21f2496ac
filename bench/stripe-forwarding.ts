/**
 * Stripe events per second forwarded from SQS (fauxqs on loopback) to a local downstream, paybridge's
 * forwarder beside the usual `sqs-consumer` + `fetch` forwarder, in one run:
 *
 *   npx bun run bench/stripe-forwarding.ts [events=5000] [concurrency=10]
 *
 * Each contender gets a fresh queue preloaded with `events` EventBridge envelopes (SendMessageBatch, 10 a
 * call), then runs in its own Bun process (so CPU and RSS are its own) until the downstream has seen
 * every event id. The downstream is a separate Bun.serve process on 127.0.0.1 that checks every
 * `Stripe-Signature` (HMAC-SHA256 with node:crypto, 300 s tolerance, constant-time compare), answers 200
 * and counts deliveries per event id. `concurrency` is the POSTs in flight for every contender: paybridge's
 * relay concurrency (and its consumer's), and for sqs-consumer ⌈c/10⌉ consumers of batchSize min(10, c)
 * (one consumer handles one receive at a time, so 10 is its ceiling).
 *
 * What each contender guarantees:
 * - paybridge: the event, its forward and the outbox row are written to the SQLite ledger (WAL) in one
 *   transaction before the SQS message is deleted; a repeated event id is acked and never POSTed again
 *   (durable dedupe, across restarts); failed POSTs retry with capped exponential backoff and jitter
 *   honouring Retry-After, for 24 h, then the forward is dead (kept, replayable); poison messages are
 *   dead-lettered with the reason.
 * - sqs-consumer + fetch: at-least-once. The message is deleted after the 2xx; a failed POST is left for
 *   the visibility timeout and SQS's redrive; a redelivered or duplicated message is POSTed again (no
 *   dedupe, nothing recorded).
 * - sqs drain (reference, not a forwarder): receive 10 + DeleteMessageBatch and nothing else; what fauxqs
 *   itself allows on this machine.
 * paybridge and the drain use paybridge's SQS client (`sqsClient`: the SDK on its fetch handler); the
 * sqs-consumer forwarders the SDK's default client, as sqs-consumer's README builds it.
 *
 * Bounded: each contender has `BENCH_DEADLINE_MS` (default 60 s) to deliver everything, else its row says
 * how far it got. `BENCH_PROFILE=<dir>` writes a `--cpu-prof` profile per contender there;
 * `BENCH_LOG=info` makes paybridge log every event as production does (default: warn).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { Consumer } from 'sqs-consumer'
import { consoleLog } from '../src/adapters/console-log.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteForwardStore } from '../src/adapters/ledger/sqlite/forward-store.ts'
import { sqsClient } from '../src/adapters/sqs/client.ts'
import { ensureQueue } from '../src/adapters/sqs/provision.ts'
import { sqsQueue } from '../src/adapters/sqs/queue.ts'
import { stripeSignatureHeader, stripeSigner } from '../src/adapters/stripe/signature.ts'
import { STRIPE_WEBHOOK_PATH, stripeForwarding } from '../src/app/stripe-forwarding.ts'
import type { ForwardStore } from '../src/ports/forward-store.ts'
import { fauxqsClientConfig, startFauxqs } from '../test/support/fauxqs.ts'

const SECRET = 'whsec_bench_stripe_forwarding'
const TOLERANCE_S = 300
const CONTENDERS = ['paybridge', 'sqs-consumer', 'sqs-consumer batch', 'sqs drain'] as const
type Contender = (typeof CONTENDERS)[number]

/** What a contender process reports on its last stdout line. */
interface RunResult {
  delivered: number
  wallMs: number
  cpuMs: number
  rssStartMb: number
  rssPeakMb: number
  timedOut: boolean
  /** SQS requests by command while running, e.g. `{ ReceiveMessage: 500, DeleteMessageBatch: 5000 }`. */
  calls: Record<string, number>
  /** paybridge only: ledger steps (one transaction each) by ForwardStore method. */
  steps?: Record<string, number>
}

interface Stats {
  distinct: number
  deliveries: number
  duplicates: number
  rejected: number
}

// ---------------------------------------------------------------------------------------------------
// The downstream: verify, count, 200.

function runDownstream(): void {
  const seen = new Map<string, number>()
  let deliveries = 0
  let rejected = 0
  let waiters: { n: number; resolve: () => void }[] = []
  const stats = (): Stats => ({
    distinct: seen.size,
    deliveries,
    duplicates: deliveries - seen.size,
    rejected,
  })
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 120,
    async fetch(request) {
      const url = new URL(request.url)
      if (request.method === 'POST' && url.pathname === STRIPE_WEBHOOK_PATH) {
        const body = await request.text()
        if (!verified(body, request.headers.get('Stripe-Signature'))) {
          rejected++
          return new Response('bad signature', { status: 400 })
        }
        const id = (JSON.parse(body) as { id?: unknown }).id
        if (typeof id !== 'string') {
          rejected++
          return new Response('no event id', { status: 400 })
        }
        deliveries++
        seen.set(id, (seen.get(id) ?? 0) + 1)
        if (waiters.length > 0 && waiters.some((w) => seen.size >= w.n)) {
          for (const w of waiters.filter((w) => seen.size >= w.n)) w.resolve()
          waiters = waiters.filter((w) => seen.size < w.n)
        }
        return new Response('{"received":true}', { headers: { 'Content-Type': 'application/json' } })
      }
      if (url.pathname === '/wait') {
        const n = Number(url.searchParams.get('n'))
        if (seen.size < n) await new Promise<void>((resolve) => waiters.push({ n, resolve }))
        return Response.json(stats())
      }
      if (url.pathname === '/stats') return Response.json(stats())
      if (url.pathname === '/reset') {
        seen.clear()
        deliveries = 0
        rejected = 0
        return Response.json(stats())
      }
      return new Response('not found', { status: 404 })
    },
  })
  process.stdout.write(`listening http://127.0.0.1:${server.port}\n`)
  // Gone with its parent, even when the parent crashed.
  process.stdin.on('close', () => process.exit(0))
  process.stdin.resume()
}

/** What an unchanged downstream checks: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, fresh. */
function verified(body: string, header: string | null): boolean {
  if (!header) return false
  let t = ''
  const candidates: string[] = []
  for (const part of header.split(',')) {
    const [key, value] = part.split('=', 2)
    if (key === 't' && value) t = value
    else if (key === 'v1' && value) candidates.push(value)
  }
  if (!t || Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCE_S) return false
  const expected = createHmac('sha256', SECRET).update(`${t}.${body}`, 'utf8').digest()
  return candidates.some((hex) => {
    const given = Buffer.from(hex, 'hex')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

// ---------------------------------------------------------------------------------------------------
// The contenders, each in its own process.

async function runContender(name: Contender): Promise<void> {
  const env = (key: string) => {
    const value = process.env[key]
    if (!value) throw new Error(`${key} is not set`)
    return value
  }
  const downstream = env('BENCH_DOWNSTREAM')
  const events = Number(env('BENCH_EVENTS'))
  const deadlineMs = Number(env('BENCH_DEADLINE_MS'))
  // paybridge runs on its own client (the SDK's fetch handler), and so does the drain, the queue's
  // ceiling; the sqs-consumer forwarders get `new SQSClient(...)` as its README writes it.
  const clientConfig = { ...fauxqsClientConfig, endpoint: env('BENCH_ENDPOINT') }
  const client = name.startsWith('sqs-consumer') ? new SQSClient(clientConfig) : sqsClient(clientConfig)
  const calls: Record<string, number> = {}
  client.middlewareStack.add(
    (next, context) => (args) => {
      const command = context.commandName?.replace(/Command$/, '') ?? 'unknown'
      calls[command] = (calls[command] ?? 0) + 1
      return next(args)
    },
    { step: 'initialize', name: 'benchCallCounter' },
  )
  const steps: Record<string, number> = {}
  const deps = { client, queueUrl: env('BENCH_QUEUE_URL'), downstream, events, steps }
  const running = contender(name, { ...deps, concurrency: Number(env('BENCH_CONCURRENCY')) })

  let rssPeak = process.memoryUsage().rss
  const rssStart = rssPeak
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50)
  const cpu = process.cpuUsage()
  const started = performance.now()
  running.start()
  const finished = running.done
    ? running.done()
    : fetch(`${downstream}/wait?n=${events}`, { signal: AbortSignal.timeout(deadlineMs) })
        .then((r) => r.json() as Promise<Stats>)
        .then((s) => s.distinct)
  const delivered = await Promise.race([finished, Bun.sleep(deadlineMs).then(() => undefined)]).catch(
    () => undefined,
  )
  const wallMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  if (process.env.BENCH_THREADS) {
    const { readdirSync, readFileSync } = await import('node:fs')
    const per: Record<string, number> = {}
    for (const t of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      per[`${name}#${t}`] = (Number(f[11]) + Number(f[12])) * 10
    }
    process.stderr.write(`${name} threads ms: ${JSON.stringify(per)}\n`)
  }
  clearInterval(sampler)
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
  await running.stop()
  client.destroy()
  const result: RunResult = {
    delivered: delivered ?? ((await (await fetch(`${downstream}/stats`)).json()) as Stats).distinct,
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    rssStartMb: rssStart / 1e6,
    rssPeakMb: rssPeak / 1e6,
    timedOut: delivered === undefined,
    calls,
    ...(name === 'paybridge' ? { steps } : {}),
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
}

interface ContenderDeps {
  client: SQSClient
  queueUrl: string
  downstream: string
  events: number
  concurrency: number
  /** Filled with the ledger steps paybridge takes, by ForwardStore method. */
  steps: Record<string, number>
}

interface Running {
  start(): void
  stop(): Promise<void>
  /** Resolves with the count once every event is through, for a contender the downstream does not see. */
  done?: () => Promise<number>
}

function contender(name: Contender, deps: ContenderDeps): Running {
  switch (name) {
    case 'paybridge':
      return paybridge(deps)
    case 'sqs-consumer':
      return baseline(deps, false)
    case 'sqs-consumer batch':
      return baseline(deps, true)
    case 'sqs drain':
      return drain(deps)
  }
}

/** paybridge as `main.ts` wires it: a ledger file, the sqsQueue adapter, production tuning. */
function paybridge({ client, queueUrl, downstream, concurrency, steps }: ContenderDeps) {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-bench-stripe-'))
  const ledger = openLedger(join(dir, 'ledger.sqlite'))
  const level = process.env.BENCH_LOG === 'info' ? 'info' : 'warn'
  const forwarding = stripeForwarding({
    store: counted(sqliteForwardStore(ledger), steps),
    queue: sqsQueue({ client, queueUrl, visibilityTimeoutSeconds: 30 }),
    sign: stripeSigner(SECRET),
    config: {
      serviceUrl: downstream,
      webhookSecret: SECRET,
      queue: { url: queueUrl },
      timeoutMs: 15_000,
      concurrency,
      retry: { baseMs: 1_000, capMs: 300_000, forMs: 24 * 3600_000 },
    },
    log: consoleLog({ level }),
    clock: Date.now,
    random: Math.random,
    tuning: { consumerConcurrency: concurrency },
  })
  return {
    start: () => forwarding.start(),
    async stop() {
      await forwarding.stop()
      ledger.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The store with every step (each one ledger transaction) counted by method name. */
function counted(store: ForwardStore, steps: Record<string, number>): ForwardStore {
  const wrapped = {} as Record<string, unknown>
  for (const [method, step] of Object.entries(store) as [string, (...args: unknown[]) => unknown][]) {
    wrapped[method] = (...args: unknown[]) => {
      steps[method] = (steps[method] ?? 0) + 1
      return step(...args)
    }
  }
  return wrapped as unknown as ForwardStore
}

/**
 * The usual forwarder: sqs-consumer hands over messages, each POSTed with `fetch` and a fresh
 * Stripe-Signature; a 2xx returns the message so sqs-consumer deletes it. `batch` uses
 * handleMessageBatch (one DeleteMessageBatch per receive) instead of handleMessage (one delete each).
 */
function baseline({ client, queueUrl, downstream, concurrency }: ContenderDeps, batch: boolean) {
  const url = `${downstream}${STRIPE_WEBHOOK_PATH}`
  const post = async (message: Message): Promise<boolean> => {
    const envelope = JSON.parse(message.Body ?? '{}') as { detail?: unknown }
    const body = JSON.stringify(envelope.detail)
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'Stripe-Signature': stripeSignatureHeader(body, SECRET, Math.floor(Date.now() / 1000)),
      },
      signal: AbortSignal.timeout(15_000),
    })
    await response.arrayBuffer()
    return response.ok
  }
  const batchSize = Math.min(10, concurrency)
  const consumers = Array.from({ length: Math.ceil(concurrency / batchSize) }, () =>
    Consumer.create({
      queueUrl,
      sqs: client,
      batchSize,
      waitTimeSeconds: 10,
      visibilityTimeout: 30,
      ...(batch
        ? {
            handleMessageBatch: async (messages: Message[]) => {
              const ok = await Promise.all(messages.map((m) => post(m).catch(() => false)))
              return messages.filter((_, i) => ok[i])
            },
          }
        : {
            handleMessage: async (message: Message) => {
              if (!(await post(message))) throw new Error('downstream did not answer 2xx')
              return message
            },
          }),
    }),
  )
  for (const c of consumers) c.on('error', (err) => process.stderr.write(`sqs-consumer: ${err.message}\n`))
  return {
    start: () => {
      for (const c of consumers) c.start()
    },
    async stop() {
      for (const c of consumers) c.stop({ abort: true })
    },
  }
}

/** Receive 10, delete them in one batch, nothing else: the queue's own ceiling. */
function drain({ client, queueUrl, concurrency, events }: ContenderDeps) {
  let running = true
  let deleted = 0
  let finished: () => void = () => {}
  const done = new Promise<void>((resolve) => (finished = resolve))
  const loops: Promise<void>[] = []
  const loop = async () => {
    while (running) {
      const out = await client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      )
      const messages = out.Messages ?? []
      if (messages.length === 0) continue
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      )
      deleted += messages.length
      if (deleted >= events) finished()
    }
  }
  return {
    start: () => {
      for (let i = 0; i < Math.ceil(concurrency / 10); i++) loops.push(loop())
    },
    async stop() {
      running = false
      await Promise.allSettled(loops)
    },
    done: () => done.then(() => deleted),
  }
}

// ---------------------------------------------------------------------------------------------------
// The run: fauxqs, the downstream, then each contender on its own freshly preloaded queue.

/** A Stripe `invoice.paid` event of a realistic size (about 1.5 KB) in an EventBridge envelope. */
function envelope(id: string, i: number): string {
  const event = {
    id,
    object: 'event',
    api_version: '2024-06-20',
    created: 1_764_000_000 + i,
    type: 'invoice.paid',
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: `in_bench${i}`,
        object: 'invoice',
        account_country: 'BR',
        amount_due: 4200 + i,
        amount_paid: 4200 + i,
        amount_remaining: 0,
        attempt_count: 1,
        billing_reason: 'subscription_cycle',
        collection_method: 'charge_automatically',
        currency: 'brl',
        customer: `cus_bench${i % 500}`,
        customer_email: `payer${i % 500}@example.com`,
        hosted_invoice_url: `https://invoice.stripe.com/i/acct_bench/test_${i}`,
        lines: {
          object: 'list',
          data: [
            {
              id: `il_bench${i}`,
              object: 'line_item',
              amount: 4200 + i,
              currency: 'brl',
              description: '1 × Plano Mensal (at R$42.00 / month)',
              period: { start: 1_764_000_000, end: 1_766_592_000 },
              price: { id: 'price_bench_monthly', unit_amount: 4200, recurring: { interval: 'month' } },
              quantity: 1,
            },
          ],
          has_more: false,
          total_count: 1,
        },
        paid: true,
        period_start: 1_764_000_000,
        period_end: 1_766_592_000,
        status: 'paid',
        subscription: `sub_bench${i % 500}`,
        total: 4200 + i,
      },
    },
  }
  return JSON.stringify({
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': event.type,
    source: 'aws.partner/stripe.com/ed_bench',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: event,
  })
}

/** Puts `events` envelopes on the queue, 10 per SendMessageBatch, 8 calls in flight. */
async function preload(client: SQSClient, queueUrl: string, tag: string, events: number): Promise<void> {
  const bodies = Array.from({ length: events }, (_, i) => envelope(`evt_bench_${tag}_${i}`, i))
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < bodies.length) {
        const start = next
        next += 10
        const out = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: bodies.slice(start, start + 10).map((body, i) => ({ Id: String(i), MessageBody: body })),
          }),
        )
        if (out.Failed?.length) throw new Error(`preload failed: ${out.Failed[0]?.Code}`)
      }
    }),
  )
}

async function firstLine(stdout: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = stdout.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const timer = setTimeout(() => reader.cancel('no answer in time'), timeoutMs)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`child exited early: ${text}`)
      text += decoder.decode(value, { stream: true })
      const end = text.indexOf('\n')
      if (end >= 0) return text.slice(0, end)
    }
  } finally {
    clearTimeout(timer)
    reader.releaseLock()
  }
}

const slug = (name: string) => name.replace(/[^a-z]+/g, '')
const fixed = (n: number, digits = 0) => n.toFixed(digits)

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 5000)
  const concurrency = Number(process.argv[3] ?? 10)
  if (!Number.isInteger(events) || events < 10 || !Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write('usage: bun run bench/stripe-forwarding.ts [events ≥ 10] [concurrency ≥ 1]\n')
    process.exit(2)
  }
  const deadlineMs = Number(process.env.BENCH_DEADLINE_MS ?? 60_000)
  const only = process.env.BENCH_ONLY?.split(',')
  const contenders = CONTENDERS.filter((c) => !only || only.includes(slug(c)))
  const profileDir = process.env.BENCH_PROFILE
  const runId = Date.now().toString(36)

  const fauxqs = await startFauxqs()
  const client = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs.endpoint })
  const downstreamChild = Bun.spawn([process.execPath, import.meta.path], {
    env: { ...process.env, BENCH_ROLE: 'downstream' },
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const results: { name: Contender; run: RunResult; stats: Stats; preloadMs: number }[] = []
  try {
    const downstream = (await firstLine(downstreamChild.stdout, 10_000)).replace(/^listening /, '')
    for (const name of contenders) {
      const queueUrl = await ensureQueue({
        client,
        name: `bench-stripe-${slug(name)}-${runId}`,
        fifo: false,
        maxReceiveCount: 5,
        visibilityTimeoutSeconds: 30,
      })
      const t0 = performance.now()
      await preload(client, queueUrl, `${slug(name)}_${runId}`, events)
      const preloadMs = performance.now() - t0
      await fetch(`${downstream}/reset`, { method: 'POST' })
      const child = Bun.spawn(
        [
          process.execPath,
          ...(profileDir ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${profileDir}`] : []),
          ...(profileDir ? [`--cpu-prof-name=${slug(name)}-${runId}.cpuprofile`] : []),
          import.meta.path,
        ],
        {
          env: {
            ...process.env,
            BENCH_ROLE: name,
            BENCH_QUEUE_URL: queueUrl,
            BENCH_ENDPOINT: fauxqs.endpoint,
            BENCH_DOWNSTREAM: downstream,
            BENCH_EVENTS: String(events),
            BENCH_CONCURRENCY: String(concurrency),
            BENCH_DEADLINE_MS: String(deadlineMs),
          },
          stdout: 'pipe',
          stderr: 'inherit',
        },
      )
      const out = await new Response(child.stdout).text()
      const code = await child.exited
      const last = out.trim().split('\n').pop() ?? ''
      if (code !== 0 || !last.startsWith('{')) throw new Error(`${name} failed (exit ${code}): ${last}`)
      const run = JSON.parse(last) as RunResult
      const stats = (await (await fetch(`${downstream}/stats`)).json()) as Stats
      results.push({ name, run, stats, preloadMs })
      process.stderr.write(
        `${name}: ${run.delivered}/${events} in ${fixed(run.wallMs)} ms; SQS calls ${JSON.stringify(run.calls)}` +
          `${run.steps ? `; ledger steps ${JSON.stringify(run.steps)}` : ''}\n`,
      )
    }
  } finally {
    downstreamChild.kill()
    await downstreamChild.exited
    client.destroy()
    await fauxqs.stop()
  }

  const rate = (r: RunResult) => r.delivered / (r.wallMs / 1000)
  const ours = results.find((r) => r.name === 'paybridge')
  const rows = results.map(({ name, run, stats }) => ({
    contender: name,
    events: run.timedOut ? `${run.delivered} of ${events} (timed out)` : String(run.delivered),
    'wall s': fixed(run.wallMs / 1000, 2),
    'events/s': fixed(rate(run)),
    duplicates: name === 'sqs drain' ? '—' : String(stats.duplicates),
    'paybridge ÷ this': ours && name !== 'paybridge' ? `${fixed(rate(ours.run) / rate(run), 2)}×` : '—',
    'SQS calls/event': fixed(Object.values(run.calls).reduce((a, b) => a + b, 0) / run.delivered, 2),
    'CPU s': fixed(run.cpuMs / 1000, 2),
    'CPU ms/event': fixed(run.cpuMs / run.delivered, 3),
    'ledger tx/event': run.steps
      ? fixed(Object.values(run.steps).reduce((a, b) => a + b, 0) / run.delivered, 2)
      : '—',
    'RSS MB (start → peak)': `${fixed(run.rssStartMb)} → ${fixed(run.rssPeakMb)}`,
  }))
  const preloadRate = results.reduce((s, r) => s + events / (r.preloadMs / 1000), 0) / results.length
  console.log(
    `\nStripe forwarding, SQS (fauxqs ${'2.4.1'}) → downstream on 127.0.0.1: ${events} events per contender, ` +
      `${concurrency} POSTs in flight, ${navigator.hardwareConcurrency} cores, bun ${Bun.version}; ` +
      `preload ${fixed(preloadRate)} msg/s\n`,
  )
  console.log(markdown(rows))
  for (const { name, stats } of results.filter((r) => r.stats.rejected > 0))
    console.log(`\n${name}: the downstream refused ${stats.rejected} request(s) (bad or stale signature)`)
  process.exit(results.some((r) => r.run.timedOut) ? 1 : 0)
}

function markdown(rows: Record<string, string>[]): string {
  const first = rows[0]
  if (!first) return '(no rows)'
  const columns = Object.keys(first)
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => r[c] ?? ''))),
  ].join('\n')
}

const role = process.env.BENCH_ROLE
if (role === 'downstream') runDownstream()
else if (role) {
  const name = CONTENDERS.find((c) => c === role)
  if (!name) throw new Error(`unknown BENCH_ROLE ${role}`)
  await runContender(name)
} else await main()

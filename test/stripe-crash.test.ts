import { afterEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { SQSClient } from '@aws-sdk/client-sqs'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { ensureQueue } from '../src/adapters/sqs/provision.ts'
import { sqsQueue } from '../src/adapters/sqs/queue.ts'
import { type Fauxqs, fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { tempDir } from './support/paybridge.ts'
import { type StripeDownstream, startStripeDownstream } from './support/stripe-downstream.ts'
import { waitFor } from './support/wait.ts'

// paybridge runs as a real process (`bun run src/main.ts`) forwarding Stripe events from SQS (fauxqs) and
// is killed with SIGKILL while POSTs are in flight, then started again on the same ledger file. Every
// event must reach the downstream; an event is sent twice only when its 2xx was on the wire at the kill.

const ROOT = join(import.meta.dir, '..')
const SECRET = 'whsec_paybridge_crash_secret'
const EVENTS = 40

const stripeEvent = (id: string) =>
  JSON.stringify({
    id,
    object: 'event',
    api_version: '2024-06-20',
    created: 1_764_000_000,
    type: 'invoice.paid',
    livemode: false,
    data: { object: { id: `in_${id.slice(4)}`, object: 'invoice' } },
  })

interface Harness {
  downstream: StripeDownstream
  queueUrl: string
  client: SQSClient
  start(): void
  kill(): Promise<void>
  logs(): Promise<string>
  forwards(): { delivered: number; total: number }
  stop(): Promise<void>
}

const harnesses: Harness[] = []
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

async function harness(): Promise<Harness> {
  const dir = tempDir('paybridge-stripe-crash-')
  const fauxqs: Fauxqs = await startFauxqs()
  const client = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs.endpoint })
  // A short visibility timeout: messages the killed process received but never acked come back soon.
  const queueUrl = await ensureQueue({
    client,
    name: `stripe-crash-${Date.now().toString(36)}`,
    fifo: false,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 2,
  })
  const downstream = await startStripeDownstream({ secret: SECRET })
  const dbPath = join(dir.path, 'ledger.sqlite')
  const env = {
    ...process.env,
    PORT: '0',
    DATABASE_PATH: dbPath,
    LOG_LEVEL: 'info',
    AWS_REGION: fauxqsClientConfig.region,
    AWS_ACCESS_KEY_ID: fauxqsClientConfig.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: fauxqsClientConfig.credentials.secretAccessKey,
    SQS_ENDPOINT: fauxqs.endpoint,
    STRIPE_QUEUE_URL: queueUrl,
    STRIPE_SERVICE_URL: downstream.url,
    STRIPE_WEBHOOK_SECRET: SECRET,
    STRIPE_TIMEOUT_MS: '1000',
    STRIPE_CONCURRENCY: '8',
    STRIPE_RETRY_BASE_MS: '100',
    STRIPE_RETRY_CAP_MS: '1000',
    // Forwards the killed process had claimed are due again once their lease (≥ timeout + 1 s) runs out.
    RELAY_LEASE_MS: '2000',
    STARK_TIMEOUT_MS: '300',
    RELAY_INTERVAL_MS: '50',
    QUEUE_VISIBILITY_MS: '2000',
    EMULATOR_PAY_DELAY_MS: '3600000',
  }
  let child: ReturnType<typeof Bun.spawn> | undefined
  let starts = 0
  const logFiles: string[] = []
  const h: Harness = {
    downstream,
    queueUrl,
    client,
    start() {
      const logFile = join(dir.path, `paybridge-${++starts}.log`)
      logFiles.push(logFile)
      child = Bun.spawn([process.execPath, 'run', 'src/main.ts'], {
        cwd: ROOT,
        env,
        stdout: 'ignore',
        stderr: Bun.file(logFile),
      })
    },
    async kill() {
      child?.kill('SIGKILL')
      await child?.exited
    },
    async logs() {
      return (await Promise.all(logFiles.map((f) => Bun.file(f).text()))).join('')
    },
    forwards() {
      const ledger = openLedger(dbPath)
      try {
        const q = (sql: string) => (ledger.sqlite.query(sql).get() as { n: number }).n
        return {
          delivered: q("select count(*) as n from forwards where status = 'delivered'"),
          total: q('select count(*) as n from forwards'),
        }
      } finally {
        ledger.close()
      }
    },
    async stop() {
      child?.kill('SIGTERM')
      await child?.exited
      await downstream.stop()
      client.destroy()
      await fauxqs.stop()
      dir.cleanup()
    },
  }
  harnesses.push(h)
  return h
}

describe('Stripe forwarder crash and restart', () => {
  it('delivers every event after a kill -9 mid-delivery; duplicates only for 2xx answers on the wire', async () => {
    const h = await harness()
    const ids = Array.from({ length: EVENTS }, (_, i) => `evt_crash${String(i).padStart(3, '0')}`)
    await sqsQueue({ client: h.client, queueUrl: h.queueUrl }).send(
      ids.map((id) => ({ body: stripeEvent(id) })),
    )

    // Slow answers keep several POSTs in flight; the 10th request kills paybridge before it is answered.
    h.downstream.script('*', ...ids.map(() => ({ status: 200, delayMs: 150 })))
    let killed = false
    h.downstream.onRequest = async () => {
      if (killed || h.downstream.deliveries.filter((d) => d.verified).length < 10) return
      killed = true
      await h.kill()
    }
    h.start()
    await waitFor('the kill mid-delivery', () => killed, 20_000)
    const deliveredBeforeRestart = h.downstream.deliveredCounts().size

    // Requests still arriving after the kill were sent by the killed process: the restart takes longer.
    await Bun.sleep(100)
    const restartedAt = Date.now()
    const sentBeforeKill = new Set(
      h.downstream.deliveries.filter((d) => d.verified && d.at < restartedAt).map((d) => d.eventId ?? ''),
    )
    h.start()
    await waitFor(
      'every event delivered and recorded',
      () => {
        const counts = h.downstream.deliveredCounts()
        const f = h.forwards()
        return ids.every((id) => (counts.get(id) ?? 0) >= 1) && f.delivered === EVENTS
      },
      30_000,
    )
    await Bun.sleep(500)

    const counts = h.downstream.deliveredCounts()
    const duplicated = ids.filter((id) => (counts.get(id) ?? 0) > 1)
    const extraPosts = ids.reduce((sum, id) => sum + Math.max(0, (counts.get(id) ?? 0) - 1), 0)
    console.log(
      `stripe crash: ${EVENTS} events, ${sentBeforeKill.size} POSTed before the kill, ` +
        `${deliveredBeforeRestart} answered 2xx before the restart, ${duplicated.length} event(s) delivered ` +
        `twice (${extraPosts} extra POSTs), ${h.downstream.deliveries.length} requests in all`,
    )
    expect(ids.every((id) => (counts.get(id) ?? 0) >= 1)).toBe(true)
    expect(h.forwards()).toEqual({ delivered: EVENTS, total: EVENTS })
    // Only a POST whose answer the killed process never recorded is sent again: it was sent before the
    // kill, it holds one of the 8 delivery slots (a slot frees only after the outcome is recorded), and
    // it is sent once more, not again and again.
    expect(duplicated.every((id) => sentBeforeKill.has(id))).toBe(true)
    expect(extraPosts).toBeLessThanOrEqual(8)
    expect(ids.every((id) => (counts.get(id) ?? 0) <= 2)).toBe(true)
    expect(h.downstream.deliveries.every((d) => d.verified)).toBe(true)
  }, 60_000)
})

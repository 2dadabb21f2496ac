import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { openStripeQueue } from './adapters/cli/stripe-commands.ts'
import { consoleLog } from './adapters/console-log.ts'
import { invoiceSchedule } from './adapters/cron/invoice-schedule.ts'
import { queuedMentions } from './adapters/embedded-queue/mentions.ts'
import { adminRoutes } from './adapters/http/admin.tsx'
import {
  healthRoutes,
  queueCheck,
  type ReadinessCheck,
  starkKeyCheck,
  unresolvedTransfersAlert,
} from './adapters/http/health.ts'
import { httpApp } from './adapters/http/server.ts'
import { starkWebhook } from './adapters/http/stark-webhook.ts'
import { openPgLedger } from './adapters/ledger/postgres/database.ts'
import { postgresForwardStore } from './adapters/ledger/postgres/forward-store.ts'
import { pgWritable } from './adapters/ledger/postgres/ledger-health.ts'
import { postgresStore } from './adapters/ledger/postgres/store.ts'
import { sqliteRead } from './adapters/ledger/read.ts'
import { type Ledger, openLedger } from './adapters/ledger/sqlite/database.ts'
import { sqliteForwardStore } from './adapters/ledger/sqlite/forward-store.ts'
import { ledgerWritable } from './adapters/ledger/sqlite/ledger-health.ts'
import { ledgerReplay } from './adapters/ledger/sqlite/ledger-replay.ts'
import { reconcile } from './adapters/ledger/sqlite/reconcile.ts'
import { sqliteStore } from './adapters/ledger/sqlite/store.ts'
import { ledgerViews } from './adapters/ledger/views.ts'
import { metricsRoute, prometheusMetrics } from './adapters/metrics/prometheus.ts'
import { timedBank } from './adapters/metrics/timed.ts'
import { openQueue } from './adapters/open-queue.ts'
import { starkBank } from './adapters/starkbank/bank.ts'
import { starkSignatureVerifier } from './adapters/starkbank/webhook-signature.ts'
import { stripeSigner } from './adapters/stripe/signature.ts'
import { QueueConsumer } from './app/consumer.ts'
import { OutagePause } from './app/consumer-pause.ts'
import { type GapReport, gapFiller } from './app/fill-gaps.ts'
import { invoiceIssuer } from './app/issue-invoices.ts'
import { Poller } from './app/poller.ts'
import { recordBankEvent, recordBankEvents } from './app/record-bank-event.ts'
import { transferRelay } from './app/relay-transfers.ts'
import { stripeForwarding } from './app/stripe-forwarding.ts'
import type { Config, StarkCredentials } from './config.ts'
import { redactUrl } from './domain/redacted-url.ts'
import { startEmbeddedStarkBank } from './emulator/embedded.ts'
import type { StarkBankEmulator } from './emulator/emulator.ts'
import type { Log } from './ports/log.ts'
import type { Queue } from './ports/queue.ts'
import type { Store } from './ports/store.ts'

/** What one process runs: `all`, or any of the parts, so they can be scaled apart. */
export const ROLES = ['all', 'web', 'worker', 'relay', 'scheduler'] as const
export type Role = (typeof ROLES)[number]

export interface Paybridge {
  /** The HTTP port (0 when this process does not run the web role). */
  port: number
  ledger: Ledger
  /** The Stark Bank events queue in use (embedded or SQS). */
  queue: Queue
  emulator: StarkBankEmulator | undefined
  issueInvoicesNow(): Promise<{ runId: string; planned: boolean; issued: boolean }>
  /** Records the events Stark Bank has not delivered (also runs at start and hourly). */
  fillGaps(): Promise<GapReport | undefined>
  stop(): Promise<void>
}

/**
 * The composition root: config → ledger (+migrations) → adapters → use cases → server, worker, relay,
 * scheduler. Without Stark Bank credentials it starts the local emulator in-process and says so.
 */
export async function startPaybridge(
  config: Config,
  options: {
    log?: Log
    roles?: Role[]
    scheduler?: boolean
    gapFill?: boolean
    /** Delays before retrying a failed gap fill (default 30 s, 2 min, 10 min). */
    gapRetryMs?: number[]
    random?: () => number
  } = {},
): Promise<Paybridge> {
  const log = options.log ?? consoleLog({ level: config.logLevel })
  const clock = Date.now
  const random = options.random ?? Math.random
  const roles = options.roles ?? ['all']
  const runs = (role: Role) => roles.includes('all') || roles.includes(role)
  log.info('paybridge starting', { roles: roles.join(',') })

  if (config.databasePath !== ':memory:') mkdirSync(dirname(config.databasePath), { recursive: true })
  const ledger = openLedger(config.databasePath)
  // DATABASE_URL puts the ledger on PostgreSQL, shared by every paybridge process (queues on SQS).
  const pg = config.databaseUrl ? await openPgLedger(config.databaseUrl) : undefined
  const store = pg ? postgresStore(pg) : sqliteStore(ledger)
  const forwardStore = pg ? postgresForwardStore(pg) : sqliteForwardStore(ledger)
  if (pg) {
    log.info('ledger: PostgreSQL (shared); migrations applied')
    log.warn(
      'on PostgreSQL, /admin and the ledger gauges in /metrics are not available yet (`ledger reconcile` is)',
    )
  }
  const metrics = prometheusMetrics({
    ledger: config.databaseUrl ? undefined : ledger,
    clock,
    unresolvedTransfers: () => store.unresolvedTransfers(),
  })

  let emulator: StarkBankEmulator | undefined
  let stark = config.stark
  if (!stark) {
    const embedded = await startEmbeddedStarkBank(config.emulator)
    emulator = embedded.emulator
    stark = embedded.credentials
    announceEmbedded(log, config, emulator.url)
  } else {
    log.info('Stark Bank', {
      environment: stark.environment,
      project: stark.projectId,
      apiUrl: stark.apiUrl ? redactUrl(stark.apiUrl) : 'Stark Bank hosts',
    })
  }

  const bank = timedBank(starkBankFor(stark, config.starkTimeoutMs), metrics)
  const sqs = await sqsClientFor(config)
  const queue = await openQueue({
    target: config.sqs?.queue,
    embeddedName: 'stark-events',
    ledger,
    client: sqs,
    visibilityMs: config.queue.visibilityMs,
    maxReceives: config.queue.maxReceives,
  })
  log.info(queue.kind === 'sqs' ? 'queue: Amazon SQS (or compatible)' : 'queue: embedded SQLite', {
    kind: queue.kind,
    name: queue.name,
    endpoint: config.aws?.endpoint && redactUrl(config.aws.endpoint),
  })

  const stripeQueue =
    config.stripe && runs('worker')
      ? await openStripeQueue({
          queue: config.stripeQueue,
          ledger,
          client: sqs,
          visibilityMs: config.queue.visibilityMs,
          maxReceives: config.queue.maxReceives,
        })
      : undefined

  const verifier = starkSignatureVerifier({ fetchPublicKey: () => bank.publicKey(), clock, log })
  const schedulerOn = options.scheduler !== false && runs('scheduler')
  const ledgerCheck = pg ? pgWritable(pg.client) : ledgerWritable(ledger)
  // While paused by an outage a consumer probes the ledger the way /readyz does.
  const probeLedger = async () => {
    const outcome = await ledgerCheck()
    if (outcome !== true) throw new Error(outcome)
  }
  const checks: Record<string, ReadinessCheck> = {
    ledger: ledgerCheck,
    consumer: () => {
      const paused = outage.reason() ?? forwarder?.paused()
      return paused === undefined ? true : `consumer paused by an outage: ${paused}`
    },
    queue: queueCheck(queue),
    starkKey: starkKeyCheck(verifier),
    ...(schedulerOn
      ? { scheduler: () => (schedule.running() ? true : 'invoice scheduler not running') }
      : {}),
    // Read when asked: the relay is built further down.
    ...(runs('relay') ? { transferRelay: () => relay.readiness() } : {}),
  }
  const replay = ledgerReplay({
    ledger,
    store,
    clock,
    log,
    queues: { [queue.name]: queue, ...(stripeQueue ? { [stripeQueue.name]: stripeQueue } : {}) },
  })
  const reported = (r: { ok: boolean; mismatches: unknown[] }, at: number) =>
    metrics.reconciliation({ ok: r.ok, mismatches: r.mismatches.length }, at)
  // /admin reads through the views (a read-only connection of the file, opened when first asked).
  const adminRead = sqliteRead(ledger)
  if (!config.adminToken) log.warn('admin surface off: set ADMIN_TOKEN (16+ characters) to serve /admin')
  const app = httpApp({
    log,
    routes: {
      '/webhook/starkbank': starkWebhook({ verifier, queue, log, metrics }),
      '/metrics': metricsRoute(metrics),
      // Without ADMIN_TOKEN there is no /admin route at all: 404.
      // The admin views, reconcile and replay read the SQLite ledger; on PostgreSQL they are not offered yet.
      ...(config.adminToken && !pg
        ? {
            '/admin': adminRoutes({
              token: config.adminToken,
              ledger,
              views: ledgerViews(adminRead, { queued: queuedMentions }),
              clock,
              replay,
              onReconciled: reported,
            }),
          }
        : {}),
      '/': healthRoutes({ checks, alerts: { transfers: unresolvedTransfersAlert(store) } }),
    },
  })
  // The last 7 days reconciled every 10 minutes, for the metric and the status page.
  const reconcileRecent = () => {
    const from = new Date(clock() - 6 * 86_400_000).toISOString().slice(0, 10)
    reported(reconcile(ledger, { from, now: clock() }), clock())
  }
  const reconTimer = setInterval(reconcileRecent, 600_000)
  const server = runs('web')
    ? Bun.serve({ port: config.port, hostname: config.host, fetch: app.fetch })
    : undefined
  const port = server?.port ?? 0
  if (server) {
    log.info('listening', { url: `http://${config.host}:${port}`, webhook: '/webhook/starkbank' })
    emulator?.setWebhookUrl(`http://127.0.0.1:${port}/webhook/starkbank`)
  }

  const relay = transferRelay({
    store,
    bank,
    clock,
    random,
    log,
    metrics,
    leaseMs: config.relayLeaseMs,
    callTimeoutMs: config.starkTimeoutMs,
    limits: config.transferLimits,
    paused: () => config.transfersPaused,
  })
  const relayPoller = new Poller(
    'transfer relay',
    async () => (await relay.relayOnce()).claimed >= 100,
    config.relayIntervalMs,
    log,
  )
  const recorder = {
    store,
    destination: config.destination,
    payoutScope: config.payoutScope,
    clock,
    log,
    metrics,
  }
  const handle = recordBankEvent(recorder)
  const handleMany = recordBankEvents(recorder)
  // SQS hands out at most 10 messages a receive: several receive loops keep the workers busy.
  const loops = queue.kind === 'sqs' ? (config.sqs?.receiveLoops ?? 1) : 1
  const receiveWaitMs = 20_000
  // The receive loops of one queue pause and resume together.
  const outage = new OutagePause({
    queue,
    log,
    random,
    backoff: { baseMs: 500, capMs: 5_000 },
    visibilityMs: config.queue.visibilityMs,
    pollWaitMs: receiveWaitMs,
    probe: probeLedger,
    metrics,
  })
  const consumers = Array.from(
    { length: loops },
    () =>
      new QueueConsumer({
        queue,
        store,
        log,
        clock,
        random,
        concurrency: Math.max(1, Math.ceil(config.workerConcurrency / loops)),
        // One receive is one ledger transaction: the embedded queue hands out bigger batches than SQS.
        maxPerReceive: queue.kind === 'sqs' ? 10 : 50,
        visibilityMs: config.queue.visibilityMs,
        waitMs: receiveWaitMs,
        // The webhook takes at most 64 KiB, so a larger message did not come from it.
        maxBodyBytes: 64 * 1024,
        metrics,
        outage,
        handle: async (body) => {
          const result = await handle(body)
          relayPoller.poke()
          return result
        },
        handleBatch: async (bodies) => {
          const results = await handleMany(bodies)
          relayPoller.poke()
          return results
        },
      }),
  )
  if (runs('worker')) for (const consumer of consumers) consumer.start()

  // Webhooks Stark Bank gave up on: at start, then hourly.
  const gaps = gapFiller({ bank, store, record: handle, clock, log })
  // A failed run (Stark Bank 429 or 5xx) is tried again soon rather than an hour later.
  const GAP_RETRY_MS = options.gapRetryMs ?? [30_000, 120_000, 600_000]
  let gapRetry: Timer | undefined
  const fillGaps = async (attempt = 0): Promise<GapReport | undefined> => {
    try {
      const report = await gaps.fillOnce()
      relayPoller.poke()
      return report
    } catch (err) {
      const retryInMs = GAP_RETRY_MS[attempt]
      log.error('gap fill failed', {
        error: err instanceof Error ? err.message : String(err),
        retryInMs: retryInMs ?? 'at the next hourly run',
      })
      clearTimeout(gapRetry)
      if (retryInMs !== undefined) gapRetry = setTimeout(() => void fillGaps(attempt + 1), retryInMs)
      return undefined
    }
  }
  const gapTimer = runs('worker') ? setInterval(() => void fillGaps(), 3_600_000) : undefined
  if (runs('worker') && options.gapFill !== false) void fillGaps()
  if (runs('relay')) relayPoller.start()

  // The Stripe forwarder (its consumer and its relay) runs with the worker role.
  const forwarder =
    config.stripe && stripeQueue
      ? stripeForwarding({
          store: forwardStore,
          queue: stripeQueue,
          metrics,
          consumerMetrics: metrics,
          probe: probeLedger,
          config: config.stripe,
          sign: stripeSigner(config.stripe.webhookSecret),
          log,
          clock,
          random,
          tuning: { leaseMs: config.relayLeaseMs, visibilityMs: config.queue.visibilityMs },
        })
      : undefined
  // The forwarder announces itself (queue, URL, limits) when it starts.
  if (forwarder) forwarder.start()
  else {
    log.info('Stripe forwarder off: set STRIPE_SERVICE_URL and STRIPE_WEBHOOK_SECRET to turn it on')
  }
  const drains = runs('worker')
    ? await deadLetterDrains([queue, stripeQueue], { sqs, store, clock, log, metrics })
    : []
  for (const drain of drains) drain.start()

  const issuer = invoiceIssuer({
    store,
    bank,
    clock,
    random,
    log,
    metrics,
    resumeAfterUnknownMs: config.invoiceResumeAfterUnknownMs,
  })
  const schedule = invoiceSchedule({
    pattern: config.invoiceSchedule,
    issuer,
    lastPlannedAt: async () => (await store.lastRun())?.plannedAt,
    clock,
    log,
  })
  const scheduling = !schedulerOn
    ? Promise.resolve()
    : schedule
        .start()
        .then(async (ranCatchUp) => {
          // The embedded emulator starts empty each time: give it a batch to pay so the flow shows at once.
          if (emulator && !ranCatchUp) await issuer.runSlot(new Date(clock()), 'manual')
        })
        .catch((err) => log.error('start-up invoice run failed', { error: String(err) }))

  let stopped: Promise<void> | undefined
  return {
    port,
    ledger,
    queue,
    emulator,
    issueInvoicesNow: () => issuer.runSlot(new Date(clock()), 'manual'),
    fillGaps: async () => {
      const report = await fillGaps(GAP_RETRY_MS.length)
      relayPoller.poke()
      return report
    },
    stop: () => {
      stopped ??= (async () => {
        log.info('stopping: draining worker and relay')
        schedule.stop()
        clearInterval(gapTimer)
        clearTimeout(gapRetry)
        clearInterval(reconTimer)
        await server?.stop()
        await Promise.all(consumers.map((c) => c.stop()))
        await relayPoller.stop()
        await forwarder?.stop()
        await Promise.all(drains.map((d) => d.stop()))
        await scheduling.catch(() => undefined)
        await emulator?.stop()
        sqs?.destroy()
        await pg?.close()
        await adminRead.close()
        ledger.close()
        log.info('stopped')
      })()
      return stopped
    },
  }
}

/**
 * Nothing may end in a place nobody reads: what SQS moves to a queue's dead-letter queue is drained
 * into the ledger's dead letters every 30 s (seen in `ledger dead-letters` and /admin, replayable).
 */
async function deadLetterDrains(
  queues: (Queue | undefined)[],
  deps: {
    sqs: SQSClient | undefined
    store: Store
    clock: () => number
    log: Log
    metrics: { queueDeadLettered(queue: string, n: number): void }
  },
): Promise<Poller[]> {
  const { sqs } = deps
  const onSqs = queues.filter((q): q is Queue => q?.kind === 'sqs')
  if (!sqs || onSqs.length === 0) return []
  const { sqsDeadLetterDrain } = await import('./adapters/sqs/dead-letter-drain.ts')
  return onSqs.map((q) => {
    const drain = sqsDeadLetterDrain({ client: sqs, queueName: q.name, ...deps })
    return new Poller(
      `${q.name} dead-letter drain`,
      async () => (await drain.drainOnce()).more,
      30_000,
      deps.log,
    )
  })
}

/** Says loudly that no real Stark Bank (and maybe no AWS) is in use. */
function announceEmbedded(log: Log, config: Config, emulatorUrl: string): void {
  const queue = config.sqs
    ? `SQS ${'url' in config.sqs.queue ? redactUrl(config.sqs.queue.url) : config.sqs.queue.name}`
    : `EMBEDDED SQLite queue in ${config.databasePath} (no AWS)`
  const lines = [
    '==================================================================================',
    '  paybridge is running on its EMBEDDED Stark Bank default: no Stark Bank credentials.',
    `  Stark Bank: LOCAL EMULATOR at ${emulatorUrl} (no real money moves).`,
    `  Queue: ${queue}.`,
    '  Set STARK_PROJECT_ID and STARK_PRIVATE_KEY to talk to Stark Bank instead.',
    '==================================================================================',
  ]
  for (const line of lines) log.warn(line)
}

/** One SQS client for the process when AWS is configured (credentials: the SDK's default chain). */
export async function sqsClientFor(config: Config): Promise<SQSClient | undefined> {
  if (!config.aws) return undefined
  // Loaded only when AWS is configured: the AWS SDK is the slowest module to load.
  const { SQSClient } = await import('@aws-sdk/client-sqs')
  return new SQSClient({
    region: config.aws.region,
    ...(config.aws.endpoint ? { endpoint: config.aws.endpoint } : {}),
  })
}

export function starkBankFor(stark: StarkCredentials, timeoutMs: number) {
  return starkBank({
    projectId: stark.projectId,
    privateKeyPem: stark.privateKeyPem,
    environment: stark.environment,
    apiUrl: stark.apiUrl,
    timeoutMs,
  })
}

import type { SQSClient } from '@aws-sdk/client-sqs'
import { openStripeQueue } from './adapters/cli/stripe-commands.ts'
import { consoleLog } from './adapters/console-log.ts'
import { embeddedQueueDepths } from './adapters/embedded-queue/queue-depths.ts'
import { type OpenLedger, openLedgerStores } from './adapters/ledger/open.ts'
import { timedBank } from './adapters/metrics/timed.ts'
import { openQueue } from './adapters/open-queue.ts'
import { starkBank } from './adapters/starkbank/bank.ts'
import type { GapReport } from './app/fill-gaps.ts'
import type { Config, StarkCredentials } from './config.ts'
import { redactUrl } from './domain/redacted-url.ts'
import type { StarkBankEmulator } from './emulator/emulator.ts'
import type { StripeServiceStandIn } from './emulator/stripe-service.ts'
import type { Log } from './ports/log.ts'
import type { Metrics } from './ports/metrics.ts'
import type { Queue } from './ports/queue.ts'
import { type BackgroundRoles, workerAndRelay } from './roles/background.ts'
import { schedulerRole } from './roles/scheduler.ts'
import type { Shared } from './roles/shared.ts'
import { workerThreadRoles } from './roles/worker-thread.ts'

/** What one process runs: `all`, or any of the parts, so they can be scaled apart. */
export const ROLES = ['all', 'web', 'worker', 'relay', 'scheduler'] as const
export type Role = (typeof ROLES)[number]

export interface Paybridge {
  /** The HTTP port (0 when this process does not run the web role). */
  port: number
  ledger: OpenLedger
  /** The Stark Bank events queue in use (embedded or SQS). */
  queue: Queue
  emulator: StarkBankEmulator | undefined
  /** The local Stripe-processing stand-in the forwarder posts to when no STRIPE_SERVICE_URL is set. */
  stripeService: StripeServiceStandIn | undefined
  /** Readiness of the worker and relay, wherever they run (this thread or their worker thread). */
  checks: BackgroundRoles['checks']
  /** Resolves with why if the worker and relay stopped on their own (their thread died); never otherwise. */
  failed: Promise<string>
  issueInvoicesNow(): Promise<{ runId: string; planned: boolean; issued: boolean }>
  /** Records the events Stark Bank has not delivered (also runs at start and hourly). */
  fillGaps(): Promise<GapReport | undefined>
  stop(): Promise<void>
}

export interface PaybridgeOptions {
  log?: Log
  roles?: Role[]
  scheduler?: boolean
  gapFill?: boolean
  /** Delays before retrying a failed gap fill (default 30 s, 2 min, 10 min). */
  gapRetryMs?: number[]
  random?: () => number
  /** Where counters go instead of a registry of this process's own (a worker thread's, to its main thread). */
  metrics?: Metrics
  /** Run the worker and relay beside the web role on a thread of their own (default: WORKER_THREAD). */
  workerThread?: Config['workerThread']
}

/**
 * The composition root: config → ledger (+migrations) → shared adapters → the role modules (web,
 * worker, relay, scheduler), each started only where this process runs it. Without Stark Bank
 * credentials it starts the local emulator in-process and says so.
 */
export async function startPaybridge(config: Config, options: PaybridgeOptions = {}): Promise<Paybridge> {
  const log = options.log ?? consoleLog({ level: config.logLevel })
  const roles = options.roles ?? ['all']
  const runs = (role: Role) => roles.includes('all') || roles.includes(role)
  log.info('paybridge starting', { roles: roles.join(',') })
  const { shared, prometheus, resolved, emulator, stripeService, sqs, stripeQueue } = await sharedAdapters(
    config,
    log,
    options,
    runs('worker'),
  )
  const { ledger, queue } = shared
  const backgroundRoles = (['worker', 'relay'] as const).filter(runs)
  const gapFill = { gapFillAtStart: options.gapFill !== false, gapRetryMs: options.gapRetryMs }
  // With the web role in the same process, the worker and relay get a thread (a core) of their own.
  const background =
    runs('web') && backgroundRoles.length > 0 && onWorkerThread(config, options, queue)
      ? workerThreadRoles({
          config: resolved,
          roles: backgroundRoles,
          ...gapFill,
          log,
          metrics: shared.metrics,
        })
      : await workerAndRelay(shared, { stripeQueue, sqs, ...gapFill }, backgroundRoles)
  const scheduler = schedulerRole({ ...shared, issueAtStart: emulator !== undefined })
  const schedulerOn = options.scheduler !== false && runs('scheduler')
  // The embedded queues live in the SQLite file; a PostgreSQL ledger has its queues on SQS.
  const queueDepths = ledger.sqlite && embeddedQueueDepths(ledger.sqlite)
  const web =
    runs('web') && prometheus
      ? (await import('./roles/web.ts')).webRole({
          ...shared,
          metrics: prometheus,
          checks: {
            consumer: background.checks.consumer,
            ...(schedulerOn ? { scheduler: scheduler.readiness } : {}),
            ...(runs('relay') ? { transferRelay: background.checks.transferRelay } : {}),
          },
          admin: { queues: byName([queue, stripeQueue]), queueDepths },
          listening: (port) => emulator?.setWebhookUrl(`http://127.0.0.1:${port}/webhook/starkbank`),
        })
      : undefined
  const started = [...(web ? [web] : []), background]
  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      log.info('stopping: draining worker and relay')
      // No new invoice runs from now; the start-up run in hand is awaited after the drains.
      const scheduling = scheduler.stop()
      for (const role of started) await role.stop()
      await scheduling
      await emulator?.stop()
      await stripeService?.stop()
      sqs?.destroy()
      await ledger.close()
      log.info('stopped')
    })()
    return stopped
  }
  try {
    for (const role of started) role.start()
    if (schedulerOn) scheduler.start()
    // The worker thread starts while this thread serves; a thread that cannot start ends the start.
    await background.ready
  } catch (err) {
    // Nothing started is left running: a web role that cannot listen stops the thread it would have had.
    // The start's own error is what the caller gets; one met while stopping is logged.
    await stop().catch((stopErr: unknown) =>
      log.error('stop after a failed start failed', { error: String(stopErr) }),
    )
    throw err
  }

  return {
    port: web?.port() ?? 0,
    ledger,
    queue,
    emulator,
    stripeService,
    checks: background.checks,
    failed: background.failed,
    issueInvoicesNow: scheduler.issueNow,
    fillGaps: background.fillGaps,
    stop,
  }
}

/**
 * WORKER_THREAD (or the option), on a ledger another thread can open (a file or PostgreSQL). `auto`
 * is on where the events queue is SQS. On the embedded queue every webhook's send takes the SQLite
 * file's one write lock, which the worker's and relay's steps take too: in five runs of
 * bench/end-to-end.ts on 2 cores the thread moved events/s by -9 to +10 %, cost 0.07-0.19 CPU ms more
 * per event and mostly raised the webhook's p99; on SQS it took the webhook's rate from about 700 to
 * 1,360/s and the transfers' by 9-26 % (three runs).
 */
function onWorkerThread(config: Config, options: PaybridgeOptions, queue: Queue): boolean {
  const setting = options.workerThread ?? config.workerThread
  const wanted = setting === 'auto' ? queue.kind === 'sqs' : setting === 'on'
  return wanted && (config.databaseUrl !== undefined || config.databasePath !== ':memory:')
}

const byName = (queues: (Queue | undefined)[]): Record<string, Queue> =>
  Object.fromEntries(queues.filter((q) => q !== undefined).map((q) => [q.name, q]))

/** What every role shares: the ledger, the metrics, Stark Bank (or the emulator) and the queues. */
async function sharedAdapters(configured: Config, log: Log, options: PaybridgeOptions, worker: boolean) {
  let config = configured
  const clock = Date.now
  // DATABASE_URL puts the ledger on PostgreSQL, shared by every paybridge process (queues on SQS).
  const ledger = await openLedgerStores(config)
  if (ledger.engine === 'postgres') log.info('ledger: PostgreSQL (shared); migrations applied')
  // A worker thread's counters go to its main thread's registry: prom-client loads only where one is kept.
  const prometheus = options.metrics
    ? undefined
    : (await import('./adapters/metrics/prometheus.ts')).prometheusMetrics({
        views: ledger.views,
        queueDepths: ledger.sqlite && embeddedQueueDepths(ledger.sqlite),
        clock,
        unresolvedTransfers: () => ledger.store.unresolvedTransfers(),
      })
  const metrics: Metrics = prometheus ?? (options.metrics as Metrics)
  let emulator: StarkBankEmulator | undefined
  let stark = config.stark
  // The emulator's modules load only where it runs: with Stark Bank credentials none is loaded.
  if (!stark) {
    const { startEmbeddedStarkBank } = await import('./emulator/embedded.ts')
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
  // On the embedded default through and through (no Stripe service, no Stripe queue on SQS) the
  // worker forwards to a local stand-in, so both flows show with no configuration.
  let stripeService: StripeServiceStandIn | undefined
  const stripeDemo =
    emulator && worker && ledger.sqlite && !config.stripe && !config.stripeQueue
      ? await import('./emulator/stripe-demo.ts')
      : undefined
  if (stripeDemo) {
    const demo = stripeDemo.startStripeDemo(config.stripeDelivery)
    stripeService = demo.standIn
    config = { ...config, stripe: demo.stripe }
  }
  const bank = timedBank(starkBankFor(stark, config.starkTimeoutMs), metrics)
  const sqs = await sqsClientFor(config)
  const queues = { ledger: ledger.sqlite, client: sqs, ...config.queue }
  const queue = await openQueue({ ...queues, target: config.sqs?.queue, embeddedName: 'stark-events' })
  log.info(queue.kind === 'sqs' ? 'queue: Amazon SQS (or compatible)' : 'queue: embedded SQLite', {
    kind: queue.kind,
    name: queue.name,
    endpoint: config.aws?.endpoint && redactUrl(config.aws.endpoint),
  })
  // The Stripe queue is the worker's (its forwarder consumes it).
  const stripeQueue =
    config.stripe && worker ? await openStripeQueue({ ...queues, queue: config.stripeQueue }) : undefined
  if (stripeDemo && stripeService && stripeQueue) {
    const batch = stripeDemo.stripeDemoBatch(clock(), options.random)
    await stripeQueue.send(batch)
    for (const line of stripeDemo.stripeDemoBanner(stripeService.url, batch.length, stripeQueue.name))
      log.warn(line)
  }
  const shared: Shared = {
    config,
    ledger,
    metrics,
    bank,
    queue,
    clock,
    random: options.random ?? Math.random,
    log,
  }
  // What a worker thread is started with: the Stark Bank this process talks to (its emulator's
  // credentials too) and the Stripe service it forwards to, so the thread starts neither again.
  const resolved: Config = { ...config, stark }
  return { shared, prometheus, resolved, emulator, stripeService, sqs, stripeQueue }
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
  const { sqsClient } = await import('./adapters/sqs/client.ts')
  return sqsClient({
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

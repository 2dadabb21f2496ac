import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { SQSClient } from '@aws-sdk/client-sqs'
import { forwardsReplay, openStripeQueue, stripeEnqueue } from './adapters/cli/stripe-commands.ts'
import { renderTable } from './adapters/cli/table.ts'
import { consoleLog } from './adapters/console-log.ts'
import { invoiceSchedule } from './adapters/cron/invoice-schedule.ts'
import { httpApp } from './adapters/http/server.ts'
import { starkWebhook } from './adapters/http/stark-webhook.ts'
import { openQueue } from './adapters/open-queue.ts'
import { type Ledger, openLedger } from './adapters/sqlite/database.ts'
import { sqliteForwardStore } from './adapters/sqlite/forward-store.ts'
import { ledgerView, VIEWS, type View } from './adapters/sqlite/ledger-views.ts'
import { sqliteStore } from './adapters/sqlite/store.ts'
import { starkBank } from './adapters/starkbank/bank.ts'
import { generateKeyPair } from './adapters/starkbank/ecdsa.ts'
import {
  runStandaloneEmulator,
  type StarkBankEmulator,
  startStarkBankEmulator,
} from './adapters/starkbank/emulator.ts'
import { starkSignatureVerifier } from './adapters/starkbank/webhook-signature.ts'
import { QueueConsumer } from './app/consumer.ts'
import { type GapReport, gapFiller } from './app/fill-gaps.ts'
import { invoiceIssuer } from './app/issue-invoices.ts'
import { Poller } from './app/poller.ts'
import { recordBankEvent } from './app/record-bank-event.ts'
import { transferRelay } from './app/relay-transfers.ts'
import { stripeForwarding } from './app/stripe-forwarding.ts'
import { type Config, ConfigError, loadConfig, type StarkCredentials } from './config.ts'
import type { Log } from './ports/log.ts'
import type { Queue } from './ports/queue.ts'

/** The project id paybridge uses with its embedded emulator. */
const EMBEDDED_PROJECT_ID = '1000000000000001'

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
  options: { log?: Log; roles?: Role[]; scheduler?: boolean; gapFill?: boolean; random?: () => number } = {},
): Promise<Paybridge> {
  const log = options.log ?? consoleLog({ level: config.logLevel })
  const clock = Date.now
  const random = options.random ?? Math.random
  const roles = options.roles ?? ['all']
  const runs = (role: Role) => roles.includes('all') || roles.includes(role)
  log.info('paybridge starting', { roles: roles.join(',') })

  if (config.databasePath !== ':memory:') mkdirSync(dirname(config.databasePath), { recursive: true })
  const ledger = openLedger(config.databasePath)
  const store = sqliteStore(ledger)

  let emulator: StarkBankEmulator | undefined
  let stark = config.stark
  if (!stark) {
    const keys = generateKeyPair()
    emulator = await startStarkBankEmulator({
      port: 0,
      projects: { [EMBEDDED_PROJECT_ID]: keys.publicPem },
      payShare: config.emulator.payShare,
      payDelayMs: config.emulator.payDelayMs,
    })
    stark = {
      projectId: EMBEDDED_PROJECT_ID,
      privateKeyPem: keys.privatePem,
      environment: 'sandbox',
      apiUrl: emulator.url,
    }
    const banner = [
      '',
      '==================================================================================',
      '  paybridge is running on its EMBEDDED Stark Bank default: no Stark Bank credentials.',
      `  Stark Bank: LOCAL EMULATOR at ${emulator.url} (no real money moves).`,
      config.sqs
        ? `  Queue: SQS ${'url' in config.sqs.queue ? config.sqs.queue.url : config.sqs.queue.name}.`
        : `  Queue: EMBEDDED SQLite queue in ${config.databasePath} (no AWS).`,
      '  Set STARK_PROJECT_ID and STARK_PRIVATE_KEY to talk to Stark Bank instead.',
      '==================================================================================',
      '',
    ]
    for (const line of banner) log.warn(line)
  } else {
    log.info('Stark Bank', {
      environment: stark.environment,
      project: stark.projectId,
      apiUrl: stark.apiUrl ?? 'Stark Bank hosts',
    })
  }

  const bank = starkBankFor(stark, config.starkTimeoutMs)
  const sqs = sqsClientFor(config)
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
    endpoint: config.aws?.endpoint,
  })

  const verifier = starkSignatureVerifier({ fetchPublicKey: () => bank.publicKey(), clock, log })
  const app = httpApp({ log, routes: { '/webhook/starkbank': starkWebhook({ verifier, queue, log }) } })
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
    leaseMs: config.relayLeaseMs,
    limits: config.transferLimits,
    paused: () => config.transfersPaused,
  })
  const relayPoller = new Poller(
    'transfer relay',
    async () => (await relay.relayOnce()).claimed >= 100,
    config.relayIntervalMs,
    log,
  )
  const handle = recordBankEvent({ store, destination: config.destination, clock, log })
  // SQS hands out at most 10 messages a receive: several receive loops keep the workers busy.
  const loops = queue.kind === 'sqs' ? (config.sqs?.receiveLoops ?? 1) : 1
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
        visibilityMs: config.queue.visibilityMs,
        waitMs: 20_000,
        // The webhook takes at most 64 KiB, so a larger message did not come from it.
        maxBodyBytes: 64 * 1024,
        handle: async (body) => {
          const result = await handle(body)
          relayPoller.poke()
          return result
        },
      }),
  )
  if (runs('worker')) for (const consumer of consumers) consumer.start()

  // Webhooks Stark Bank gave up on: at start, then hourly.
  const gaps = gapFiller({ bank, store, record: handle, clock, log })
  const fillGaps = () =>
    gaps.fillOnce().catch((err) => {
      log.error('gap fill failed; next try within the hour', {
        error: err instanceof Error ? err.message : String(err),
      })
      return undefined
    })
  const gapTimer = runs('worker')
    ? setInterval(() => void fillGaps().then(() => relayPoller.poke()), 3_600_000)
    : undefined
  if (runs('worker') && options.gapFill !== false) void fillGaps().then(() => relayPoller.poke())
  if (runs('relay')) relayPoller.start()

  // The Stripe forwarder (its consumer and its relay) runs with the worker role.
  const forwarder =
    config.stripe && runs('worker')
      ? stripeForwarding({
          store: sqliteForwardStore(ledger),
          queue: await openStripeQueue({
            queue: config.stripeQueue,
            ledger,
            client: sqs,
            visibilityMs: config.queue.visibilityMs,
            maxReceives: config.queue.maxReceives,
          }),
          config: config.stripe,
          log,
          clock,
          random,
          tuning: { leaseMs: config.relayLeaseMs, visibilityMs: config.queue.visibilityMs },
        })
      : undefined
  if (forwarder) {
    forwarder.start()
    log.info('Stripe forwarder on', { to: forwarder.url })
  } else {
    log.info('Stripe forwarder off: set STRIPE_SERVICE_URL and STRIPE_WEBHOOK_SECRET to turn it on')
  }

  const issuer = invoiceIssuer({ store, bank, clock, random, log })
  const schedule = invoiceSchedule({
    pattern: config.invoiceSchedule,
    issuer,
    lastPlannedAt: async () => (await store.lastRun())?.plannedAt,
    clock,
    log,
  })
  const scheduling =
    options.scheduler === false || !runs('scheduler')
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
      const report = await fillGaps()
      relayPoller.poke()
      return report
    },
    stop: () => {
      stopped ??= (async () => {
        log.info('stopping: draining worker and relay')
        schedule.stop()
        clearInterval(gapTimer)
        await server?.stop()
        await Promise.all(consumers.map((c) => c.stop()))
        await relayPoller.stop()
        await forwarder?.stop()
        await scheduling.catch(() => undefined)
        await emulator?.stop()
        sqs?.destroy()
        ledger.close()
        log.info('stopped')
      })()
      return stopped
    },
  }
}

/** One SQS client for the process when AWS is configured (credentials: the SDK's default chain). */
function sqsClientFor(config: Config): SQSClient | undefined {
  if (!config.aws) return undefined
  return new SQSClient({
    region: config.aws.region,
    ...(config.aws.endpoint ? { endpoint: config.aws.endpoint } : {}),
  })
}

function starkBankFor(stark: StarkCredentials, timeoutMs: number) {
  return starkBank({
    projectId: stark.projectId,
    privateKeyPem: stark.privateKeyPem,
    environment: stark.environment,
    apiUrl: stark.apiUrl,
    timeoutMs,
  })
}

const USAGE = `usage: bun run src/main.ts [command]

  (no command) | all      run paybridge: webhook server, worker, transfer relay, invoice scheduler
  web|worker|relay|scheduler [more roles]
                          run only those parts (scale them apart; the worker role also runs the
                          Stripe forwarder and the hourly gap fill)
  invoices issue          issue one batch of invoices now (needs Stark Bank credentials)
  stripe enqueue <file|->  put Stripe events (JSON, an array, or JSON lines) on the Stripe queue
  forwards replay [--dead] [--since T] [--event evt_…] [--dry-run] [--force]
                          send dead (or chosen) Stripe forwards again; delivered ones only with --force
  events sync             record the events Stark Bank could not deliver by webhook (also at start, hourly)
  emulator                run the local Stark Bank emulator alone (EMULATOR_PORT, default 9100;
                          EMULATOR_WEBHOOK_URL, EMULATOR_PAY_SHARE, EMULATOR_PAY_DELAY_MS,
                          EMULATOR_PROJECT_ID + EMULATOR_PROJECT_PUBLIC_KEY)
  keys create             print a new secp256k1 key pair for a Stark Bank project (PEM)
  ledger approve <transfer id>
                          release a transfer held by TRANSFER_MAX_AMOUNT / TRANSFER_MAX_DAILY_AMOUNT
  ledger <view> [--limit N] [--json]
                          print the ledger; views: ${VIEWS.join(', ')}
`

async function cli(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE)
    return 0
  }
  if (command === 'keys' && sub === 'create') {
    const keys = generateKeyPair()
    process.stdout.write(`${keys.privatePem}\n${keys.publicPem}`)
    return 0
  }
  if (command === 'emulator') {
    const emulator = await runStandaloneEmulator(process.env, (line) => process.stderr.write(`${line}\n`))
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
    })
    await emulator.stop()
    return 0
  }
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`paybridge: ${err.message}\n`)
      return 2
    }
    throw err
  }
  const log = consoleLog({ level: config.logLevel })

  if (command === undefined || command === 'run' || ROLES.includes(command as Role)) {
    const roles = (command && command !== 'run' ? [command, sub, ...rest] : []).filter(Boolean) as string[]
    const unknown = roles.filter((r) => !ROLES.includes(r as Role))
    if (unknown.length > 0) {
      process.stderr.write(`paybridge: unknown role(s) ${unknown.join(', ')}; roles: ${ROLES.join(', ')}\n`)
      return 2
    }
    if (!config.stark && roles.some((r) => r !== 'all')) {
      process.stderr.write(
        'paybridge: running single roles needs Stark Bank credentials (or STARK_API_URL to a shared emulator):\n' +
          'each process would otherwise start its own embedded emulator.\n',
      )
      return 2
    }
    const paybridge = await startPaybridge(config, {
      log,
      roles: roles.length > 0 ? (roles as Role[]) : ['all'],
    })
    await new Promise<void>((resolve) => {
      const onSignal = (signal: string) => {
        log.info('signal received', { signal })
        resolve()
      }
      process.once('SIGTERM', () => onSignal('SIGTERM'))
      process.once('SIGINT', () => onSignal('SIGINT'))
    })
    await paybridge.stop()
    return 0
  }

  if (command === 'ledger' && sub === 'approve') {
    const [transferId] = rest
    if (!transferId) {
      process.stderr.write('paybridge: usage: ledger approve <transfer id>\n')
      return 2
    }
    const ledger = openLedger(config.databasePath)
    try {
      const result = await sqliteStore(ledger).approveTransfer(transferId, Date.now())
      switch (result.kind) {
        case 'approved':
          log.info('transfer approved; the relay sends it next', { transferId })
          return 0
        case 'unknown':
          process.stderr.write(`paybridge: no transfer "${transferId}"\n`)
          return 1
        case 'not-held':
          process.stderr.write(`paybridge: transfer "${transferId}" is ${result.status}, not held\n`)
          return 1
      }
    } finally {
      ledger.close()
    }
  }

  if (command === 'ledger') {
    const view = sub as View
    if (!VIEWS.includes(view)) {
      process.stderr.write(`paybridge: unknown ledger view "${sub ?? ''}"\n${USAGE}`)
      return 2
    }
    const limitAt = rest.indexOf('--limit')
    const limit = limitAt >= 0 ? Number(rest[limitAt + 1]) : 50
    if (!Number.isInteger(limit) || limit <= 0) {
      process.stderr.write('paybridge: --limit takes a positive whole number\n')
      return 2
    }
    const ledger = openLedger(config.databasePath)
    const rows = ledgerView(ledger, view, limit)
    ledger.close()
    process.stdout.write(rest.includes('--json') ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows))
    return 0
  }

  if (command === 'stripe' && sub === 'enqueue') {
    const ledger = openLedger(config.databasePath)
    const client = sqsClientFor(config)
    try {
      const queue = await openStripeQueue({
        queue: config.stripeQueue,
        ledger,
        client,
        visibilityMs: config.queue.visibilityMs,
        maxReceives: config.queue.maxReceives,
      })
      return await stripeEnqueue(rest, { queue })
    } finally {
      client?.destroy()
      ledger.close()
    }
  }

  if (command === 'forwards' && sub === 'replay') {
    const ledger = openLedger(config.databasePath)
    try {
      return await forwardsReplay(rest, { store: sqliteForwardStore(ledger), clock: Date.now, log })
    } finally {
      ledger.close()
    }
  }

  if (command === 'events' && sub === 'sync') {
    if (!config.stark) {
      process.stderr.write(
        'paybridge: `events sync` needs Stark Bank credentials (STARK_PROJECT_ID, STARK_PRIVATE_KEY)\n',
      )
      return 2
    }
    const ledger = openLedger(config.databasePath)
    try {
      const store = sqliteStore(ledger)
      const bank = starkBankFor(config.stark, config.starkTimeoutMs)
      const record = recordBankEvent({ store, destination: config.destination, clock: Date.now, log })
      const report = await gapFiller({ bank, store, record, clock: Date.now, log }).fillOnce()
      log.info('events sync done; the running paybridge relays any new transfers', { ...report })
    } finally {
      ledger.close()
    }
    return 0
  }

  if (command === 'invoices' && sub === 'issue') {
    if (!config.stark) {
      process.stderr.write(
        'paybridge: `invoices issue` needs Stark Bank credentials (STARK_PROJECT_ID, STARK_PRIVATE_KEY);\n' +
          'on the embedded default, the running paybridge issues a batch at start and every period.\n',
      )
      return 2
    }
    const ledger = openLedger(config.databasePath)
    try {
      const bank = starkBankFor(config.stark, config.starkTimeoutMs)
      const issuer = invoiceIssuer({
        store: sqliteStore(ledger),
        bank,
        clock: Date.now,
        random: Math.random,
        log,
      })
      const run = await issuer.runSlot(new Date(), 'manual')
      if (!run.issued) {
        log.error(
          'run planned but not issued; the running paybridge (or the next `invoices issue`) retries it',
          {
            runId: run.runId,
          },
        )
        return 1
      }
      log.info('invoice run done', { runId: run.runId })
    } finally {
      ledger.close()
    }
    return 0
  }

  process.stderr.write(`paybridge: unknown command "${argv.join(' ')}"\n${USAGE}`)
  return 2
}

if (import.meta.main) {
  // Exit explicitly: keep-alive sockets to Stark Bank would otherwise hold a finished command open.
  process.exit(await cli(process.argv.slice(2)))
}

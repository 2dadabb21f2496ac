import { DEAD_LETTERS_REPLAY_USAGE, deadLettersReplay } from './adapters/cli/dead-letter-commands.ts'
import { DOCTOR_USAGE, doctorCommand } from './adapters/cli/doctor-command.ts'
import {
  LEDGER_USAGE,
  ledgerCommand,
  reconcileCommand,
  transfersReplay,
} from './adapters/cli/ledger-commands.ts'
import { forwardsReplay, openStripeQueue, stripeEnqueue } from './adapters/cli/stripe-commands.ts'
import { WEBHOOKS_USAGE, webhooksCommand } from './adapters/cli/webhook-commands.ts'
import { consoleLog } from './adapters/console-log.ts'
import { ledgerProbe, unopenedLedgerProbe } from './adapters/ledger/doctor-probe.ts'
import { openStores } from './adapters/ledger/open.ts'
import { openPgLedger } from './adapters/ledger/postgres/database.ts'
import { reconcilePg } from './adapters/ledger/postgres/reconcile.ts'
import { openLedger } from './adapters/ledger/sqlite/database.ts'
import { reconcile } from './adapters/ledger/sqlite/reconcile.ts'
import { openQueue } from './adapters/open-queue.ts'
import { sqsQueueProbe } from './adapters/sqs/queue-settings.ts'
import { generateKeyPair } from './adapters/starkbank/ecdsa.ts'
import { startupFailureOf } from './adapters/startup-failure.ts'
import { stripeDownstreamProbe } from './adapters/stripe/downstream-probe.ts'
import { gapFiller } from './app/fill-gaps.ts'
import { invoiceIssuer } from './app/issue-invoices.ts'
import { recordBankEvent } from './app/record-bank-event.ts'
import {
  type Config,
  ConfigError,
  type LocalStarkBankConfig,
  loadConfig,
  loadLocalStarkBankConfig,
} from './config.ts'
import { runStandaloneEmulator } from './emulator/emulator.ts'
import { ROLES, type Role, sqsClientFor, starkBankFor, startPaybridge } from './paybridge.ts'

// paybridge's command line: runs the service (src/paybridge.ts composes it) or one operator command.

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
  ledger …                views, trace and reconcile (below)
  webhooks register|list  subscribe PUBLIC_URL to Stark Bank's invoice and transfer events (below)
  doctor                  check Stark Bank, the queues, the Stripe downstream and the ledger (below)

${LEDGER_USAGE}
${DEAD_LETTERS_REPLAY_USAGE}
${WEBHOOKS_USAGE}
${DOCTOR_USAGE}`

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
    let options: LocalStarkBankConfig
    try {
      options = loadLocalStarkBankConfig(process.env)
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`paybridge: ${err.message}\n`)
        return 2
      }
      throw err
    }
    const emulator = await runStandaloneEmulator(options, (line) => process.stderr.write(`${line}\n`))
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
  const format = config.logFormat === 'auto' ? (process.stderr.isTTY ? 'text' : 'json') : config.logFormat
  const log = consoleLog({ level: config.logLevel, format })

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
    // Listen for the stop signal before starting: one that arrives mid-start still drains, once started.
    const stopSignal = new Promise<void>((resolve) => {
      const onSignal = (signal: string) => {
        log.info('signal received', { signal })
        resolve()
      }
      process.once('SIGTERM', () => onSignal('SIGTERM'))
      process.once('SIGINT', () => onSignal('SIGINT'))
    })
    const paybridge = await startPaybridge(config, {
      log,
      roles: roles.length > 0 ? (roles as Role[]) : ['all'],
    })
    await stopSignal
    await paybridge.stop()
    return 0
  }

  if (command === 'ledger' && sub === 'approve') {
    const [transferId] = rest
    if (!transferId) {
      process.stderr.write('paybridge: usage: ledger approve <transfer id>\n')
      return 2
    }
    const stores = await openStores(config)
    try {
      const result = await stores.store.approveTransfer(transferId, Date.now())
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
      await stores.close()
    }
  }

  if (command === 'ledger' && sub === 'transfers' && rest[0] === 'replay') {
    // Through the Store, so it works on PostgreSQL (DATABASE_URL) as on the SQLite file.
    const stores = await openStores(config)
    try {
      return await transfersReplay(rest.slice(1), {
        store: stores.store,
        clock: Date.now,
        log,
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
      })
    } finally {
      await stores.close()
    }
  }

  if (command === 'ledger' && sub === 'dead-letters' && rest[0] === 'replay') {
    // Through the Store, so it works on PostgreSQL (DATABASE_URL) as on the SQLite file.
    const stores = await openStores(config)
    const client = await sqsClientFor(config)
    // The embedded queues live in the SQLite file; with SQS (and so on PostgreSQL) no file is opened.
    const embedded = !config.sqs?.queue || (config.stripe && !config.stripeQueue)
    const ledger = embedded ? openLedger(config.databasePath) : undefined
    try {
      const queueOptions = {
        ledger,
        client,
        visibilityMs: config.queue.visibilityMs,
        maxReceives: config.queue.maxReceives,
      }
      const stark = await openQueue({
        ...queueOptions,
        target: config.sqs?.queue,
        embeddedName: 'stark-events',
      })
      const stripe = config.stripe
        ? await openStripeQueue({ ...queueOptions, queue: config.stripeQueue })
        : undefined
      return await deadLettersReplay(rest.slice(1), {
        store: stores.store,
        queues: { [stark.name]: stark, ...(stripe ? { [stripe.name]: stripe } : {}) },
        log,
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
      })
    } finally {
      client?.destroy()
      ledger?.close()
      await stores.close()
    }
  }

  if (command === 'ledger' && sub === 'reconcile' && config.databaseUrl) {
    const pg = await openPgLedger(config.databaseUrl, { maxConnections: 1 })
    try {
      return await reconcileCommand(rest, {
        read: (options) => reconcilePg(pg, options),
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
      })
    } finally {
      await pg.close()
    }
  }

  if (command === 'ledger') {
    // Views and trace on either engine; `reconcile` on PostgreSQL is answered above.
    const stores = await openStores(config)
    const { sqlite } = stores
    try {
      return await ledgerCommand(sub === undefined ? [] : [sub, ...rest], {
        views: stores.views,
        reconcile: async (options) => {
          if (!sqlite) throw new Error('ledger reconcile on PostgreSQL goes through reconcilePg')
          return reconcile(sqlite, options)
        },
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
      })
    } finally {
      await stores.close()
    }
  }

  if (command === 'stripe' && sub === 'enqueue') {
    const ledger = openLedger(config.databasePath)
    const client = await sqsClientFor(config)
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
    const stores = await openStores(config)
    try {
      return await forwardsReplay(rest, { store: stores.forwards, clock: Date.now, log })
    } finally {
      await stores.close()
    }
  }

  if (command === 'events' && sub === 'sync') {
    if (!config.stark) {
      process.stderr.write(
        'paybridge: `events sync` needs Stark Bank credentials (STARK_PROJECT_ID, STARK_PRIVATE_KEY)\n',
      )
      return 2
    }
    const stores = await openStores(config)
    try {
      const { store } = stores
      const bank = starkBankFor(config.stark, config.starkTimeoutMs)
      const record = recordBankEvent({
        store,
        destination: config.destination,
        payoutScope: config.payoutScope,
        clock: Date.now,
        log,
      })
      const report = await gapFiller({ bank, store, record, clock: Date.now, log }).fillOnce()
      log.info('events sync done; the running paybridge relays any new transfers', { ...report })
    } finally {
      await stores.close()
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
    const stores = await openStores(config)
    try {
      const bank = starkBankFor(config.stark, config.starkTimeoutMs)
      const issuer = invoiceIssuer({
        store: stores.store,
        bank,
        clock: Date.now,
        random: Math.random,
        log,
        resumeAfterUnknownMs: config.invoiceResumeAfterUnknownMs,
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
      await stores.close()
    }
    return 0
  }

  if (command === 'webhooks' || command === 'doctor') {
    if (!config.stark) {
      process.stderr.write(
        `paybridge: \`${command}\` needs Stark Bank credentials (STARK_PROJECT_ID, STARK_PRIVATE_KEY; STARK_API_URL for an emulator)\n`,
      )
      return 2
    }
    const bank = starkBankFor(config.stark, config.starkTimeoutMs)
    const io = {
      out: (text: string) => process.stdout.write(text),
      err: (text: string) => process.stderr.write(text),
    }
    const args = sub === undefined ? rest : [sub, ...rest]
    if (command === 'webhooks') return webhooksCommand(args, { bank, publicUrl: config.publicUrl, ...io })
    // A ledger that cannot be opened is a failed check, not a crash.
    const stores = await openStores(config).catch((error: unknown) => error as Error)
    const sqs = await sqsClientFor(config)
    const queues = [
      config.sqs && { target: config.sqs.queue, carries: 'Stark Bank events' },
      config.stripeQueue && { target: config.stripeQueue, carries: 'Stripe events' },
    ].flatMap((q) => (q && sqs ? [sqsQueueProbe({ client: sqs, ...q })] : []))
    try {
      return await doctorCommand(args, {
        bank,
        stark: config.stark,
        publicUrl: config.publicUrl,
        ledger:
          stores instanceof Error
            ? unopenedLedgerProbe(config.databaseUrl ? 'postgres' : 'sqlite', stores)
            : ledgerProbe(stores),
        queues,
        stripe: config.stripe && stripeDownstreamProbe(config.stripe.serviceUrl, config.stripe.timeoutMs),
        handlingMs: config.queue.visibilityMs,
        ...io,
      })
    } finally {
      sqs?.destroy()
      if (!(stores instanceof Error)) await stores.close()
    }
  }

  process.stderr.write(`paybridge: unknown command "${argv.join(' ')}"\n${USAGE}`)
  return 2
}

if (import.meta.main) {
  const code = await cli(process.argv.slice(2)).catch((err: unknown) => {
    // A known start-up failure (ledger file, port) is one line naming the variable; the rest keep their stack.
    const failure = startupFailureOf(err, startupNames())
    if (!failure) throw err
    process.stderr.write(`paybridge: ${failure.message}\n`)
    return 2
  })
  // Exit explicitly: keep-alive sockets to Stark Bank would otherwise hold a finished command open.
  process.exit(code)
}

/** What a start-up failure names: the configuration, or its defaults when it did not load. */
function startupNames() {
  try {
    return loadConfig(process.env)
  } catch {
    return loadConfig({})
  }
}

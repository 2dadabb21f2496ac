import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQSClient } from '@aws-sdk/client-sqs'
import { ensureQueue } from '../../src/adapters/sqs/provision.ts'
import { sqsQueue } from '../../src/adapters/sqs/queue.ts'
import { starkBank } from '../../src/adapters/starkbank/bank.ts'
import { generateKeyPair, privateKeyFromPem, sign } from '../../src/adapters/starkbank/ecdsa.ts'
import { webhookBody } from '../../src/adapters/starkbank/emulator/webhooks.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../../src/adapters/starkbank/emulator.ts'
import { randomCpf } from '../../src/domain/tax-id.ts'
import type { Queue } from '../../src/ports/queue.ts'
import { PROJECT_ID } from '../support/paybridge.ts'
import { type StripeDownstream, startStripeDownstream } from '../support/stripe-downstream.ts'
import {
  between,
  FAULT_ROUTES,
  pick,
  type Random,
  STARK_FAULTS,
  STRIPE_FAULTS,
  seededRandom,
  shuffled,
  starkFault,
  stripeReply,
} from './faults.ts'
import { type ChaosReport, checkInvariants, converged, pending } from './invariants.ts'
import {
  fauxqsProcess,
  freePort,
  holdLedgerBusy,
  type PaybridgeProcess,
  paybridgeProcess,
} from './processes.ts'

export interface ChaosOptions {
  /** Kill -9 / restart cycles. */
  cycles: number
  /** Invoices the run creates at Stark Bank (the emulator pays them all and sends webhooks). */
  invoices: number
  /** Stripe events put on the Stripe queue. */
  stripeEvents: number
  /** How long faults are injected; then paybridge runs undisturbed until everything settled. */
  seconds: number
  /** Upper bound of the undisturbed phase. */
  settleSeconds: number
  seed: number
  /** Run fauxqs without persistence: a restart then loses every queue and message. */
  volatileSqs?: boolean
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void
  /** Keep the temp folder (ledger, logs) for a look afterwards. */
  keep?: boolean
}

const SECRET = 'whsec_paybridge_chaos'
const STARK_TIMEOUT_MS = 1_000
const STRIPE_TIMEOUT_MS = 1_000
const STARK_QUEUE = 'chaos-stark'
const STRIPE_QUEUE = 'chaos-stripe'
const MAX_RECEIVES = 25
const fee = (amount: number) => 25 + Math.round(amount * 0.01)

/** The fault counts of a run, by kind. */
export type FaultCounts = Record<string, number>

/**
 * Drives `invoices` credited invoices and `stripeEvents` Stripe events through paybridge running as a
 * real process while injecting faults, then lets it settle and checks what reached Stark Bank and the
 * Stripe downstream against what should have.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const random = seededRandom(options.seed)
  const say = options.progress ?? (() => {})
  const faults: FaultCounts = {}
  const count = (kind: string, n = 1) => {
    faults[kind] = (faults[kind] ?? 0) + n
  }
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-chaos-'))
  const started = Date.now()
  const cleanups: (() => Promise<unknown> | unknown)[] = []

  try {
    // --- the world paybridge lives in: Stark Bank, SQS, the Stripe downstream -----------------
    const sqsDir = join(dir, 'fauxqs')
    mkdirSync(sqsDir)
    const fauxqs = fauxqsProcess({ port: freePort(), dataDir: options.volatileSqs ? undefined : sqsDir })
    await fauxqs.start()
    cleanups.push(() => fauxqs.kill())
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: fauxqs.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    })
    cleanups.push(() => sqs.destroy())
    const provision = (name: string) =>
      ensureQueue({
        client: sqs,
        name,
        fifo: false,
        maxReceiveCount: MAX_RECEIVES,
        visibilityTimeoutSeconds: 3,
      })
    let stripeQueue: Queue = sqsQueue({
      client: sqs,
      queueUrl: await provision(STRIPE_QUEUE),
      waitTimeSeconds: 0,
    })

    const project = generateKeyPair()
    const signing = generateKeyPair()
    const port = freePort()
    const webhookUrl = `http://127.0.0.1:${port}/webhook/starkbank`
    const emulator: StarkBankEmulator = await startStarkBankEmulator({
      port: 0,
      projects: { [PROJECT_ID]: project.publicPem },
      payShare: 1,
      payDelayMs: 300,
      fee,
      webhookUrl,
      webhookRetryDelaysMs: [1_000, 3_000, 6_000],
      webhookTimeoutMs: 3_000,
      signingKey: signing.privatePem,
    })
    cleanups.push(() => emulator.stop())
    const downstream: StripeDownstream = await startStripeDownstream({ secret: SECRET })
    cleanups.push(() => downstream.stop())
    // The run's own client of Stark Bank, to create the invoices paybridge will be paid for.
    const bank = starkBank({
      projectId: PROJECT_ID,
      privateKeyPem: project.privatePem,
      environment: 'sandbox',
      apiUrl: emulator.url,
      timeoutMs: 10_000,
    })

    const ledgerPath = join(dir, 'ledger.sqlite')
    const env: Record<string, string> = {
      STARK_PROJECT_ID: PROJECT_ID,
      STARK_PRIVATE_KEY: project.privatePem,
      STARK_API_URL: emulator.url,
      STARK_TIMEOUT_MS: String(STARK_TIMEOUT_MS),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_PATH: ledgerPath,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SQS_ENDPOINT: fauxqs.endpoint,
      SQS_QUEUE_NAME: STARK_QUEUE,
      SQS_RECEIVE_LOOPS: '1',
      STRIPE_QUEUE_NAME: STRIPE_QUEUE,
      STRIPE_SERVICE_URL: downstream.url,
      STRIPE_WEBHOOK_SECRET: SECRET,
      STRIPE_TIMEOUT_MS: String(STRIPE_TIMEOUT_MS),
      STRIPE_RETRY_BASE_MS: '100',
      STRIPE_RETRY_CAP_MS: '2000',
      RELAY_INTERVAL_MS: '100',
      RELAY_LEASE_MS: '2000',
      QUEUE_VISIBILITY_MS: '3000',
      QUEUE_MAX_RECEIVES: String(MAX_RECEIVES),
      LOG_LEVEL: 'info',
    }
    const paybridge: PaybridgeProcess = paybridgeProcess({ env, port, logDir: dir })
    cleanups.unshift(() => paybridge.kill())

    // --- what the run sends ----------------------------------------------------------------
    const invoiceIds: string[] = []
    let invoicesToCreate = options.invoices
    async function createInvoices(n: number) {
      const batch = Array.from({ length: n }, (_, i) => ({
        amount: between(random, 1_000, 500_000),
        name: `Chaos Payer ${invoiceIds.length + i}`,
        taxId: randomCpf(random),
        tags: [`chaos-${options.seed}`],
      }))
      try {
        const created = await bank.createInvoices(batch)
        invoiceIds.push(...created.map((i) => i.id))
        invoicesToCreate -= created.length
      } catch (err) {
        say(`  invoice batch not created (${String(err)}); retried later`)
      }
    }

    const stripeIds = Array.from({ length: options.stripeEvents }, (_, i) => `evt_chaos${options.seed}_${i}`)
    let stripeNext = 0
    const stripeSent: string[] = []
    const shapes = ['raw', 'eventbridge', 'sns'] as const
    function stripeMessage(id: string): string {
      const event = {
        id,
        object: 'event',
        api_version: '2024-06-20',
        created: 1_764_000_000,
        type: 'invoice.paid',
        livemode: false,
        data: { object: { id: `in_${id.slice(4)}`, object: 'invoice' } },
      }
      const shape = pick(random, shapes)
      if (shape === 'raw') return JSON.stringify(event)
      const bridge = JSON.stringify({
        'detail-type': event.type,
        source: 'aws.partner/stripe.com',
        detail: event,
      })
      return shape === 'eventbridge' ? bridge : JSON.stringify({ Type: 'Notification', Message: bridge })
    }
    let cliEnqueues = 0
    async function enqueueStripe(n: number) {
      const ids = stripeIds.slice(stripeNext, stripeNext + n)
      // Standard SQS (and Stripe itself) may deliver an event twice: resend a few already sent.
      const again = shuffled(random, stripeSent).slice(0, Math.ceil(ids.length / 5))
      const bodies = [...ids, ...again].map(stripeMessage)
      const viaCli = random() < 0.4
      try {
        if (viaCli) {
          const file = join(dir, `stripe-${stripeNext}.jsonl`)
          await Bun.write(file, `${bodies.join('\n')}\n`)
          const cli = Bun.spawn([process.execPath, 'run', 'src/main.ts', 'stripe', 'enqueue', file], {
            cwd: join(import.meta.dir, '../..'),
            env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'error' },
            stdout: 'ignore',
            stderr: 'pipe',
          })
          const timer = setTimeout(() => cli.kill('SIGKILL'), 30_000)
          const code = await cli.exited
          clearTimeout(timer)
          if (code !== 0)
            throw new Error(`stripe enqueue exited ${code}: ${await new Response(cli.stderr).text()}`)
          cliEnqueues++
        } else {
          await stripeQueue.send(bodies.map((body) => ({ body })))
        }
        stripeNext += ids.length
        stripeSent.push(...ids)
        count('stripe events sent twice', again.length)
      } catch (err) {
        say(`  Stripe batch not queued (${String(err).slice(0, 120)}); retried later`)
      }
    }

    // --- faults --------------------------------------------------------------------------
    const secret = privateKeyFromPem(signing.privatePem)
    async function replayWebhooks() {
      const events = emulator.events()
      const chosen = shuffled(random, events).slice(
        0,
        between(random, 1, Math.max(1, Math.ceil(events.length / 3))),
      )
      // Out of order (shuffled, older after newer) and twice for some.
      const deliveries = shuffled(random, [...chosen, ...chosen.filter(() => random() < 0.5)])
      for (const event of deliveries) {
        const { attempts: _, ...wire } = event
        const body = webhookBody(wire)
        const status = await fetch(webhookUrl, {
          method: 'POST',
          body,
          headers: { 'Content-Type': 'application/json', 'Digital-Signature': sign(body, secret) },
          signal: AbortSignal.timeout(5_000),
        })
          .then((r) => r.status)
          .catch(() => 0)
        count(status === 200 ? 'webhooks re-delivered (accepted)' : 'webhooks re-delivered (refused/down)')
      }
    }

    function injectStarkFault() {
      const kind = pick(random, STARK_FAULTS)
      const route = pick(random, FAULT_ROUTES)
      emulator.fail(route, starkFault(kind, random, STARK_TIMEOUT_MS))
      count(`stark: ${kind}`)
    }

    function injectStripeFault() {
      const kind = pick(random, STRIPE_FAULTS)
      downstream.script('*', stripeReply(kind, random, STRIPE_TIMEOUT_MS))
      count(`stripe downstream: ${kind}`)
    }

    async function restartSqs() {
      await fauxqs.kill()
      await Bun.sleep(between(random, 300, 2_000))
      await fauxqs.start()
      count(options.volatileSqs ? 'SQS server restarts (state lost)' : 'SQS server restarts (state kept)')
      if (options.volatileSqs) {
        // The run's own queue handle needs the queue again, as any producer would.
        stripeQueue = sqsQueue({ client: sqs, queueUrl: await provision(STRIPE_QUEUE), waitTimeSeconds: 0 })
      }
    }

    const background = new Set<Promise<unknown>>()
    function inBackground(work: Promise<unknown>) {
      const tracked = work
        .catch((err) => say(`  background step failed: ${String(err)}`))
        .finally(() => background.delete(tracked))
      background.add(tracked)
    }
    function holdLedger() {
      // Mostly under paybridge's busy_timeout (5 s), sometimes past it.
      const ms = random() < 0.75 ? between(random, 1_000, 4_000) : between(random, 5_500, 7_000)
      inBackground(
        holdLedgerBusy(ledgerPath, ms).then((held) =>
          count(
            held
              ? `ledger held busy ${ms > 5_000 ? '> busy_timeout' : '< busy_timeout'}`
              : 'ledger hold skipped',
          ),
        ),
      )
    }

    /** Arms a kill -9 for paybridge's next money request (Stark Bank transfer or Stripe POST). */
    let killHook: 'stark' | 'stripe' | undefined
    const killMidRequest = async () => {
      killHook = undefined
      await paybridge.kill()
    }
    emulator.onRequest = async (route) => {
      if (killHook === 'stark' && route === 'POST /v2/transfer') {
        count('kill -9 mid Stark Bank transfer request')
        await killMidRequest()
      }
    }
    downstream.onRequest = async () => {
      if (killHook === 'stripe') {
        count('kill -9 mid Stripe POST')
        await killMidRequest()
      }
    }

    // --- the fault phase -------------------------------------------------------------------
    const cycleMs = (options.seconds * 1000) / options.cycles
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      if (!paybridge.running()) await paybridge.start()
      const cycleEnd = Date.now() + cycleMs
      say(`cycle ${cycle}/${options.cycles}: paybridge start #${paybridge.starts}`)
      const cyclesLeft = options.cycles - cycle + 1
      const steps: (() => Promise<void> | void)[] = [
        () => createInvoices(Math.ceil(invoicesToCreate / cyclesLeft)),
        () => enqueueStripe(Math.ceil((stripeIds.length - stripeNext) / cyclesLeft)),
        injectStarkFault,
        injectStarkFault,
        injectStripeFault,
        injectStripeFault,
        () => replayWebhooks(),
      ]
      if (random() < 0.5) steps.push(holdLedger)
      if (
        random() < 0.35 ||
        (cycle === Math.ceil(options.cycles / 2) && !faults['SQS server restarts (state kept)'])
      ) {
        steps.push(() => restartSqs())
      }
      if (random() < 0.5) {
        const target = random() < 0.6 ? 'stark' : 'stripe'
        steps.push(() => {
          killHook = target
        })
      }
      for (const step of shuffled(random, steps)) {
        if (Date.now() >= cycleEnd) break
        await step()
        const left = cycleEnd - Date.now()
        if (left > 0) await Bun.sleep(Math.floor(random() * Math.min(left, cycleMs / steps.length)))
      }
      const left = cycleEnd - Date.now()
      if (left > 0) await Bun.sleep(left)
      killHook = undefined
      if (paybridge.running()) {
        await paybridge.kill()
        count('kill -9 at a random moment')
      }
      await Bun.sleep(between(random, 0, 800))
    }
    await Promise.all([...background])
    const faultPhaseSeconds = (Date.now() - started) / 1000

    // --- settle: no more faults, paybridge runs until the books balance --------------------
    const parties = { emulator, downstream, ledgerPath, stripeIds }
    async function eventsSync(): Promise<boolean> {
      const cli = Bun.spawn([process.execPath, 'run', 'src/main.ts', 'events', 'sync'], {
        cwd: join(import.meta.dir, '../..'),
        env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'error' },
        stdout: 'ignore',
        stderr: 'ignore',
      })
      const timer = setTimeout(() => cli.kill('SIGKILL'), 20_000)
      const code = await cli.exited
      clearTimeout(timer)
      return code === 0
    }
    emulator.onRequest = undefined
    downstream.onRequest = undefined
    const settleDeadline = Date.now() + options.settleSeconds * 1000
    while (invoicesToCreate > 0 && Date.now() < settleDeadline) await createInvoices(invoicesToCreate)
    while (stripeNext < stripeIds.length && Date.now() < settleDeadline)
      await enqueueStripe(stripeIds.length - stripeNext)
    say(`settling: paybridge start #${paybridge.starts + 1}, up to ${options.settleSeconds} s`)
    await paybridge.start()
    let settled = false
    let eventsSyncs = 0
    let lastSync = Date.now()
    let waitingFor = pending(parties)
    while (Date.now() < settleDeadline) {
      waitingFor = pending(parties)
      if (converged(parties)) {
        settled = true
        break
      }
      // Events Stark Bank gave up on wait for the next gap fill (at start, hourly): an operator would
      // run `events sync` rather than wait the hour.
      if (waitingFor.undeliveredEvents > 0 && Date.now() - lastSync > 8_000) {
        lastSync = Date.now()
        if (await eventsSync()) eventsSyncs++
      }
      await Bun.sleep(250)
    }
    // Anything in flight when the books balanced finishes before the graceful stop.
    await Bun.sleep(1_000)
    await paybridge.stop()

    const report = await checkInvariants({ ...parties, sqs, queues: [STARK_QUEUE, STRIPE_QUEUE] })
    return {
      ...report,
      cycles: options.cycles,
      starts: paybridge.starts,
      faults,
      cliEnqueues,
      eventsSyncs,
      waitingFor,
      settled,
      faultPhaseSeconds,
      totalSeconds: (Date.now() - started) / 1000,
      dir: options.keep ? dir : undefined,
      logs:
        settled && report.lost + report.doubled + report.stripeLost + report.ledgerMismatches === 0
          ? ''
          : await paybridge.logs(),
    }
  } finally {
    for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => undefined)
    if (!options.keep) rmSync(dir, { recursive: true, force: true })
  }
}

export type { Random }

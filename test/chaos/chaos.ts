import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomCpf } from '../../src/domain/tax-id.ts'
import { between, type Random, seededRandom } from './faults.ts'
import {
  converged,
  type InvariantReport,
  measure,
  type Pending,
  pending,
  sqsDeadLettered,
} from './invariants.ts'
import { eventsSync, reconcile } from './operator.ts'
import { freePort, type PaybridgeProcess, paybridgeProcess } from './processes.ts'
import type { Scenario, ScenarioContext } from './scenario.ts'
import { scenarios } from './scenarios.ts'
import { type LedgerEngine, STARK_QUEUE, STRIPE_QUEUE, startWorld } from './world.ts'

export interface ChaosOptions {
  /** A name from SCENARIO_NAMES; default `mixed` (kill -9 cycles with every kind of fault). */
  scenario?: string
  ledger?: LedgerEngine
  cycles: number
  /** Invoices the run creates at Stark Bank (the emulator pays them and sends webhooks). */
  invoices: number
  /** Stripe events put on the Stripe queue (the mixed scenario). */
  stripeEvents: number
  /** Length of the fault phase; default the scenario's cycle length × cycles (at least its minimum). */
  seconds?: number
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

export interface ChaosReport extends InvariantReport {
  scenario: string
  ledger: LedgerEngine
  cycles: number
  starts: number
  faults: Record<string, number>
  cliEnqueues: number
  /** `events sync` runs the settle phase needed (webhooks Stark Bank gave up on). */
  eventsSyncs: number
  /** What was still missing when the settle phase ended. */
  waitingFor: Pending
  settled: boolean
  faultPhaseSeconds: number
  totalSeconds: number
  dir: string | undefined
  /** paybridge's logs when something is wrong. */
  logs: string
}

export function findScenario(options: ChaosOptions): Scenario {
  const all = scenarios({
    seed: options.seed,
    stripeEvents: options.stripeEvents,
    volatileSqs: options.volatileSqs ?? false,
  })
  const name = options.scenario ?? 'mixed'
  const found = all.find((s) => s.name === name)
  if (!found) throw new Error(`unknown scenario ${name}; scenarios: ${all.map((s) => s.name).join(', ')}`)
  return found
}

/**
 * Drives `invoices` credited invoices (and the mixed scenario's Stripe events) through paybridge
 * running as real processes while the scenario injects its faults, then lets it settle and checks what
 * reached Stark Bank and the Stripe downstream, and what the ledger says, against what should have.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const scenario = findScenario(options)
  const engine = options.ledger ?? 'sqlite'
  if (!scenario.ledgers.includes(engine))
    throw new Error(`scenario ${scenario.name} does not apply to ${engine}`)
  const random: Random = seededRandom(options.seed)
  const say = options.progress ?? (() => {})
  const faults: Record<string, number> = {}
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-chaos-'))
  const started = Date.now()
  const world = await startWorld({
    dir,
    engine,
    volatileSqs: options.volatileSqs,
    emulator: scenario.emulator,
    env: scenario.env?.(options.invoices),
  })
  const processes: PaybridgeProcess[] = Array.from({ length: scenario.processes ?? 1 }, (_, i) => {
    if (i === 0) return paybridgeProcess({ env: world.env, port: world.port, logDir: dir })
    const port = freePort()
    const env = { ...world.env, PORT: String(port) }
    return paybridgeProcess({ env, port, logDir: dir, roles: ['web', 'relay'], name: `relay-${i + 1}` })
  })
  const background = new Set<Promise<unknown>>()
  const ctx: ScenarioContext = {
    world,
    random,
    processes,
    count: (kind, n = 1) => {
      faults[kind] = (faults[kind] ?? 0) + n
    },
    inBackground(work) {
      const tracked = work
        .catch((err) => say(`  background step failed: ${String(err)}`))
        .finally(() => background.delete(tracked))
      background.add(tracked)
    },
    say,
    dir,
    cycle: 0,
    cycles: options.cycles,
    cycleEnd: 0,
  }
  const startAll = () => Promise.all(processes.filter((p) => !p.running()).map((p) => p.start()))

  try {
    let invoicesToCreate = options.invoices
    async function createInvoices(n: number) {
      if (n <= 0) return
      const batch = Array.from({ length: n }, (_, i) => ({
        amount: between(random, 1_000, 500_000),
        name: `Chaos Payer ${options.invoices - invoicesToCreate + i}`,
        taxId: randomCpf(random),
        tags: [`chaos-${options.seed}`],
      }))
      try {
        invoicesToCreate -= (await world.bank.createInvoices(batch)).length
      } catch (err) {
        say(`  invoice batch not created (${String(err).slice(0, 120)}); retried later`)
      }
    }

    // --- the fault phase -------------------------------------------------------------------
    const cycleMs = options.seconds
      ? (options.seconds * 1000) / options.cycles
      : Math.max(scenario.cycleMs, (scenario.minFaultMs ?? 0) / options.cycles)
    await startAll()
    await scenario.start?.(ctx)
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      await startAll()
      ctx.cycle = cycle
      ctx.cycleEnd = Date.now() + cycleMs
      say(`cycle ${cycle}/${options.cycles}: paybridge starts ${processes.map((p) => p.starts).join('+')}`)
      await createInvoices(Math.ceil(invoicesToCreate / (options.cycles - cycle + 1)))
      await scenario.cycle?.(ctx)
      const left = ctx.cycleEnd - Date.now()
      if (left > 0) await Bun.sleep(left)
    }
    await Promise.all([...background])
    const faultPhaseSeconds = (Date.now() - started) / 1000

    // --- settle: no more faults, paybridge runs until the books balance --------------------
    const parties = {
      emulator: world.emulator,
      downstream: world.downstream,
      ledger: world.ledger,
      stripeIds: scenario.stripeIds ?? [],
      dailyLimit: Number(world.env.TRANSFER_MAX_DAILY_AMOUNT ?? 100_000_000),
    }
    const settleDeadline = Date.now() + options.settleSeconds * 1000
    while (invoicesToCreate > 0 && Date.now() < settleDeadline) await createInvoices(invoicesToCreate)
    // Once every invoice exists (the credits scenario pays the last ones here).
    await scenario.finish?.(ctx)
    say(`settling: up to ${options.settleSeconds} s`)
    await startAll()
    let settled = false
    let eventsSyncs = 0
    let lastSync = Date.now()
    let waitingFor = await pending(parties)
    while (Date.now() < settleDeadline) {
      waitingFor = await pending(parties)
      if (converged(waitingFor)) {
        settled = true
        break
      }
      await scenario.operate?.(ctx)
      // Events Stark Bank gave up on wait for the next gap fill (at start, hourly): an operator would
      // run `events sync` rather than wait the hour.
      if (waitingFor.eventsMissing !== 0 && Date.now() - lastSync > 8_000) {
        lastSync = Date.now()
        if (await eventsSync(world.env)) eventsSyncs++
      }
      await Bun.sleep(250)
    }
    // Anything in flight when the books balanced finishes before the graceful stop.
    await Bun.sleep(1_000)
    await Promise.all(processes.map((p) => p.stop()))

    const { unpaidInvoices: _, ...report } = await measure(parties)
    report.sqsDeadLettered = await sqsDeadLettered(world.sqs, [STARK_QUEUE, STRIPE_QUEUE])
    report.reconcile = await reconcile(world.env)
    const broken = !settled || failures(report, scenario).length > 0
    return {
      ...report,
      scenario: scenario.name,
      ledger: engine,
      cycles: options.cycles,
      starts: processes.reduce((n, p) => n + p.starts, 0),
      faults,
      cliEnqueues: 'cliEnqueues' in scenario ? (scenario.cliEnqueues as () => number)() : 0,
      eventsSyncs,
      waitingFor,
      settled,
      faultPhaseSeconds,
      totalSeconds: (Date.now() - started) / 1000,
      dir: options.keep ? dir : undefined,
      logs: broken ? (await Promise.all(processes.map((p) => p.logs()))).join('') : '',
    }
  } finally {
    for (const p of processes) await p.kill().catch(() => undefined)
    await world.close()
    if (!options.keep) rmSync(dir, { recursive: true, force: true })
  }
}

/** The invariants a report breaks, by name; empty when the run kept every promise. */
export function failures(report: InvariantReport, scenario?: Pick<Scenario, 'reconciles'>): string[] {
  const broken: [string, boolean][] = [
    ['lost', report.lost > 0],
    ['doubled', report.doubled > 0],
    ['wrong amount', report.wrongAmount > 0],
    ['orphan transfers', report.orphanTransfers > 0],
    ['wrongly dead', report.wronglyDead > 0],
    ['limit', !report.limitHeld],
    ['status mismatch', report.statusMismatches > 0],
    ['events missing', report.eventsMissing > 0],
    ['acked lost', report.ackedLost > 0],
    ['ledger mismatch', report.ledgerMismatches > 0],
    ['Stripe lost', report.stripeLost > 0],
    ['Stripe unverified', report.stripeUnverified > 0],
    ['Stripe ledger mismatch', report.stripeLedgerMismatches > 0],
    ['dead-lettered', report.deadLetters + report.sqsDeadLettered > 0],
    ['reconcile', scenario?.reconciles === true && report.reconcile === 'mismatch'],
  ]
  return broken.filter(([, bad]) => bad).map(([name]) => name)
}

export type { Random }

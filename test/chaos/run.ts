// The chaos run, one command:
//   ./node_modules/.bin/bun run test/chaos/run.ts [--scenario NAME|all] [--ledger sqlite|postgres|both]
//       [--cycles N] [--invoices N] [--stripe M] [--seconds S] [--settle S] [--seed N] [--volatile-sqs]
//       [--keep] [--details]
// Runs each chosen scenario on each chosen ledger and prints one row per run (scenario × ledger →
// cycles, credited, transfers, lost, doubled, wrongly dead, limit held, …); with --details also each
// run's faults and checks. Exits 1 when any run broke an invariant.
import { renderTable } from '../../src/adapters/cli/table.ts'
import { type ChaosOptions, type ChaosReport, failures, findScenario, runChaos } from './chaos.ts'
import type { Scenario } from './scenario.ts'
import { SCENARIO_NAMES } from './scenarios.ts'
import type { LedgerEngine } from './world.ts'

interface RunArgs {
  base: ChaosOptions
  scenarios: string[]
  ledgers: LedgerEngine[]
  details: boolean
}

function parseArgs(argv: string[]): RunArgs {
  const text = (name: string) => {
    const at = argv.indexOf(`--${name}`)
    return at < 0 ? undefined : argv[at + 1]
  }
  const value = (name: string, fallback: number) => {
    const raw = text(name)
    if (raw === undefined) return fallback
    const parsed = Number(raw)
    if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} takes a whole number`)
    return parsed
  }
  const scenario = text('scenario') ?? 'mixed'
  const scenarios = scenario === 'all' ? SCENARIO_NAMES : scenario.split(',')
  for (const name of scenarios)
    if (!SCENARIO_NAMES.includes(name))
      throw new Error(`--scenario ${name}: one of ${SCENARIO_NAMES.join(', ')}, all`)
  const ledger = text('ledger') ?? 'sqlite'
  if (!['sqlite', 'postgres', 'both'].includes(ledger))
    throw new Error('--ledger takes sqlite, postgres or both')
  const cycles = Math.max(1, value('cycles', 10))
  const seconds = text('seconds') === undefined ? undefined : Math.max(cycles, value('seconds', 0))
  return {
    base: {
      cycles,
      invoices: value('invoices', 50),
      stripeEvents: value('stripe', 60),
      ...(seconds === undefined ? {} : { seconds }),
      settleSeconds: value('settle', 60),
      seed: value('seed', Date.now() % 1_000_000),
      volatileSqs: argv.includes('--volatile-sqs'),
      keep: argv.includes('--keep'),
      progress: (line) => process.stderr.write(`${line}\n`),
    },
    scenarios,
    ledgers: ledger === 'both' ? ['sqlite', 'postgres'] : [ledger as LedgerEngine],
    details: argv.includes('--details'),
  }
}

/** One run as two tables: what was done to paybridge, and what came out. */
export function renderReport(report: ChaosReport, options: ChaosOptions): string {
  const faults = Object.entries(report.faults)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([fault, count]) => ({ fault, count }))
  const waiting =
    Object.entries(report.waitingFor)
      .filter(([, v]) => v !== 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'nothing'
  const outcome: { check: string; value: string | number; must: string }[] = [
    { check: 'cycles / paybridge process starts', value: `${report.cycles} / ${report.starts}`, must: '' },
    {
      check: 'fault phase / whole run, seconds',
      value: `${report.faultPhaseSeconds.toFixed(0)} / ${report.totalSeconds.toFixed(0)}`,
      must: '',
    },
    { check: 'settled before the deadline', value: String(report.settled), must: 'true' },
    { check: 'still waiting for at the end', value: waiting, must: 'nothing' },
    { check: '`events sync` runs needed to settle', value: report.eventsSyncs, must: '' },
    { check: 'invoices credited by Stark Bank', value: report.credited, must: '' },
    { check: 'transfers at Stark Bank', value: report.transfers, must: '= credited − held' },
    { check: 'transfers LOST', value: report.lost, must: '0' },
    { check: 'transfers DOUBLED', value: report.doubled, must: '0' },
    { check: 'transfers of a wrong amount (≠ first credit − fee)', value: report.wrongAmount, must: '0' },
    { check: 'transfers for no credited invoice', value: report.orphanTransfers, must: '0' },
    { check: 'ledger dead/held although at the bank', value: report.wronglyDead, must: '0' },
    { check: 'held over the daily limit (not at the bank)', value: report.held, must: '' },
    {
      check: 'max Σ transfers in a UTC day / limit',
      value: `${report.maxDailyAmount} / ${report.dailyLimit}`,
      must: '≤',
    },
    { check: 'final bank statuses the ledger does not show', value: report.statusMismatches, must: '0' },
    { check: 'Stark Bank events missing from the inbox', value: report.eventsMissing, must: '0' },
    { check: '… of which acknowledged with 200', value: report.ackedLost, must: '0' },
    { check: 'slowest answer to a Stark Bank webhook, ms', value: report.slowestWebhookMs, must: '' },
    { check: 'ledger rows disagreeing with Stark Bank', value: report.ledgerMismatches, must: '0' },
    { check: 'Stripe events / LOST', value: `${report.stripeEvents} / ${report.stripeLost}`, must: '/ 0' },
    { check: 'Stripe extra deliveries', value: report.stripeDuplicates, must: 'counted' },
    { check: 'Stripe POSTs with a bad signature', value: report.stripeUnverified, must: '0' },
    { check: 'Stripe forwards not delivered in the ledger', value: report.stripeLedgerMismatches, must: '0' },
    { check: 'Stripe batches queued by `stripe enqueue`', value: report.cliEnqueues, must: '' },
    {
      check: 'ledger dead letters / SQS DLQ messages',
      value: `${report.deadLetters} / ${report.sqsDeadLettered}`,
      must: '0 / 0',
    },
    { check: 'outbox rows not done', value: report.outboxOpen, must: '0' },
    { check: '`ledger reconcile` at the end', value: report.reconcile, must: '' },
  ]
  const seed = `seed ${options.seed}${options.volatileSqs ? ', SQS server without persistence' : ''}`
  return (
    `\n${report.scenario} on ${report.ledger}: faults injected (${seed})\n${renderTable(faults, 60)}` +
    `\noutcome\n${renderTable(outcome, 60)}`
  )
}

/** One row per run: the table the README shows. */
export function summaryRow(report: ChaosReport, scenario: Scenario) {
  const broken = failures(report, scenario)
  return {
    scenario: report.scenario,
    ledger: report.ledger,
    cycles: report.cycles,
    credited: report.credited,
    transfers: report.transfers,
    lost: report.lost,
    doubled: report.doubled,
    'wrong amount': report.wrongAmount,
    'wrongly dead': report.wronglyDead,
    'limit held': report.limitHeld ? 'yes' : 'NO',
    'status mismatch': report.statusMismatches,
    'acked lost': report.ackedLost,
    'dead-lettered': report.deadLetters + report.sqsDeadLettered,
    reconcile: report.reconcile,
    'slowest webhook ms': report.slowestWebhookMs,
    settled: report.settled ? 'yes' : 'NO',
    seconds: Math.round(report.totalSeconds),
    result:
      report.settled && broken.length === 0
        ? 'pass'
        : `FAIL: ${[...broken, ...(report.settled ? [] : ['not settled'])].join(', ')}`,
  }
}

export function failed(report: ChaosReport, scenario: Scenario): boolean {
  return !report.settled || failures(report, scenario).length > 0
}

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2))
  const rows: ReturnType<typeof summaryRow>[] = []
  let anyFailed = false
  for (const scenario of args.scenarios) {
    for (const ledger of args.ledgers) {
      const options: ChaosOptions = { ...args.base, scenario, ledger }
      const chosen = findScenario(options)
      if (!chosen.ledgers.includes(ledger)) continue
      process.stderr.write(
        `chaos: ${scenario} on ${ledger}, ${options.cycles} cycles, ${options.invoices} invoices, ` +
          `settle ≤ ${options.settleSeconds} s, seed ${options.seed}\n`,
      )
      const report = await runChaos(options)
      rows.push(summaryRow(report, chosen))
      if (args.details || failed(report, chosen)) process.stdout.write(renderReport(report, options))
      if (report.dir) process.stdout.write(`\nledger and logs kept in ${report.dir}\n`)
      if (failed(report, chosen)) {
        anyFailed = true
        process.stdout.write(
          `\nlast lines of paybridge's logs:\n${report.logs.split('\n').slice(-30).join('\n')}\n`,
        )
      }
    }
  }
  process.stdout.write(`\nchaos runs (seed ${args.base.seed})\n${renderTable(rows, 60)}\n`)
  process.exit(anyFailed ? 1 : 0)
}

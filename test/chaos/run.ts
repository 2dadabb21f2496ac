// The chaos run, one command:
//   ./node_modules/.bin/bun run test/chaos/run.ts [--cycles N] [--invoices N] [--stripe M] [--seconds S]
//                                                 [--settle S] [--seed N] [--volatile-sqs] [--keep]
// Prints a table of the faults injected and of what reached Stark Bank and the Stripe downstream;
// exits 1 when a transfer was lost or doubled, a Stripe event lost, or the ledger disagrees.
import { renderTable } from '../../src/adapters/cli/table.ts'
import { type ChaosOptions, runChaos } from './chaos.ts'
import type { ChaosReport } from './invariants.ts'

function parseArgs(argv: string[]): ChaosOptions {
  const value = (name: string, fallback: number) => {
    const at = argv.indexOf(`--${name}`)
    if (at < 0) return fallback
    const parsed = Number(argv[at + 1])
    if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} takes a whole number`)
    return parsed
  }
  const cycles = Math.max(1, value('cycles', 10))
  return {
    cycles,
    invoices: value('invoices', 60),
    stripeEvents: value('stripe', 100),
    seconds: Math.max(cycles, value('seconds', 120)),
    settleSeconds: value('settle', 120),
    seed: value('seed', Date.now() % 1_000_000),
    volatileSqs: argv.includes('--volatile-sqs'),
    keep: argv.includes('--keep'),
    progress: (line) => process.stderr.write(`${line}\n`),
  }
}

/** The report as two tables: what was done to paybridge, and what came out. */
export function renderReport(report: ChaosReport, options: ChaosOptions): string {
  const faults = Object.entries(report.faults)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([fault, count]) => ({ fault, count }))
  const outcome: { check: string; value: string | number; must: string }[] = [
    { check: 'kill -9 / restart cycles', value: report.cycles, must: '' },
    { check: 'paybridge process starts', value: report.starts, must: '' },
    {
      check: 'fault phase / whole run, seconds',
      value: `${report.faultPhaseSeconds.toFixed(0)} / ${report.totalSeconds.toFixed(0)}`,
      must: '',
    },
    { check: 'settled before the deadline', value: String(report.settled), must: 'true' },
    {
      check: 'still waiting for at the end',
      value:
        Object.entries(report.waitingFor)
          .filter(([, v]) => v !== 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'nothing',
      must: 'nothing',
    },
    { check: '`events sync` runs needed to settle', value: report.eventsSyncs, must: '' },
    { check: 'invoices credited by Stark Bank', value: report.credited, must: '' },
    { check: 'transfers at Stark Bank', value: report.transfers, must: '= credited' },
    { check: 'transfers LOST', value: report.lost, must: '0' },
    { check: 'transfers DOUBLED', value: report.doubled, must: '0' },
    { check: 'transfers of a wrong amount', value: report.wrongAmount, must: '0' },
    { check: 'transfers for no credited invoice', value: report.orphanTransfers, must: '0' },
    { check: 'Stark Bank events missing from the inbox', value: report.eventsMissing, must: '0' },
    { check: 'ledger rows disagreeing with Stark Bank', value: report.ledgerMismatches, must: '0' },
    { check: 'Stripe events', value: report.stripeEvents, must: '' },
    { check: 'Stripe events LOST', value: report.stripeLost, must: '0' },
    { check: 'Stripe events delivered twice or more', value: report.stripeEventsDuplicated, must: 'counted' },
    { check: 'Stripe extra deliveries', value: report.stripeDuplicates, must: 'counted' },
    { check: 'Stripe POSTs with a bad signature', value: report.stripeUnverified, must: '0' },
    { check: 'Stripe forwards not delivered in the ledger', value: report.stripeLedgerMismatches, must: '0' },
    { check: 'Stripe batches queued by `stripe enqueue`', value: report.cliEnqueues, must: '' },
    { check: 'ledger dead letters', value: report.deadLetters, must: '0' },
    { check: 'SQS dead-letter queue messages', value: report.sqsDeadLettered, must: '0' },
    { check: 'outbox rows not done', value: report.outboxOpen, must: '0' },
  ]
  const seed = `seed ${options.seed}${options.volatileSqs ? ', SQS server without persistence' : ''}`
  return `\nfaults injected (${seed})\n${renderTable(faults, 60)}\noutcome\n${renderTable(outcome, 60)}`
}

export function failed(report: ChaosReport): boolean {
  return (
    !report.settled ||
    report.lost + report.doubled + report.wrongAmount + report.orphanTransfers > 0 ||
    report.stripeLost + report.stripeUnverified + report.stripeLedgerMismatches > 0 ||
    report.ledgerMismatches + report.eventsMissing > 0
  )
}

if (import.meta.main) {
  const options = parseArgs(process.argv.slice(2))
  process.stderr.write(
    `chaos: ${options.cycles} cycles, ${options.invoices} invoices, ${options.stripeEvents} Stripe events, ` +
      `${options.seconds} s of faults (+ up to ${options.settleSeconds} s to settle), seed ${options.seed}\n`,
  )
  const report = await runChaos(options)
  process.stdout.write(renderReport(report, options))
  if (report.dir) process.stdout.write(`\nledger and logs kept in ${report.dir}\n`)
  if (failed(report)) {
    process.stdout.write(
      `\nINVARIANTS BROKEN. Last lines of paybridge's logs:\n${report.logs.split('\n').slice(-60).join('\n')}\n`,
    )
    process.exit(1)
  }
  process.exit(0)
}

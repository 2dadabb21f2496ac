import { describe, expect, it } from 'bun:test'
import { type ChaosOptions, failures, findScenario, runChaos } from './chaos.ts'
import { renderReport } from './run.ts'

// The short chaos run for CI: paybridge as a real process, killed -9 three times, with Stark Bank and
// Stripe downstream faults, an SQS server restart, replayed webhooks and a busy ledger; then two
// scenarios of issue 11 briefly, one per ledger. The long run is `bun run test/chaos/run.ts`.

describe('paybridge under faults', () => {
  it('loses and doubles no transfer and loses no Stripe event through 3 kill -9 cycles and injected faults', async () => {
    const options = {
      cycles: 3,
      invoices: 12,
      stripeEvents: 15,
      seconds: 16,
      scenario: 'mixed',
      ledger: 'sqlite' as const,
      settleSeconds: 24,
      seed: Number(process.env.CHAOS_SEED ?? 20_260_101),
    }
    const report = await runChaos(options)
    console.log(renderReport(report, options))
    if (report.logs) console.log(report.logs.split('\n').slice(-40).join('\n'))

    expect(report.settled).toBe(true)
    expect(report.credited).toBeGreaterThanOrEqual(options.invoices)
    expect(report.transfers).toBe(report.credited)
    expect(report.lost).toBe(0)
    expect(report.doubled).toBe(0)
    expect(report.wrongAmount).toBe(0)
    expect(report.orphanTransfers).toBe(0)
    expect(report.eventsMissing).toBe(0)
    expect(report.ledgerMismatches).toBe(0)
    expect(report.wronglyDead).toBe(0)
    expect(report.ackedLost).toBe(0)
    expect(report.stripeLost).toBe(0)
    expect(report.stripeUnverified).toBe(0)
    expect(report.stripeLedgerMismatches).toBe(0)
    expect(report.outboxOpen).toBe(0)
    // At least once: an event is delivered again only when its 2xx was lost (kill, late answer).
    expect(report.stripeDuplicates).toBeLessThanOrEqual(options.stripeEvents)
    expect(report.starts).toBeGreaterThanOrEqual(options.cycles + 1)
  }, 60_000)

  async function short(scenario: string, ledger: 'sqlite' | 'postgres') {
    const options: ChaosOptions = {
      scenario,
      ledger,
      cycles: 4,
      invoices: 8,
      stripeEvents: 0,
      settleSeconds: 30,
      seed: Number(process.env.CHAOS_SEED ?? 20_260_102),
    }
    const report = await runChaos(options)
    if (report.logs) console.log(renderReport(report, options), report.logs.split('\n').slice(-40).join('\n'))
    expect(report.credited).toBeGreaterThanOrEqual(options.invoices)
    expect({ settled: report.settled, broken: failures(report, findScenario(options)) }).toEqual({
      settled: true,
      broken: [],
    })
    return report
  }

  it('pays a transfer whose answer was lost and that lists do not show yet exactly once, never dead (PostgreSQL)', async () => {
    const report = await short('lost-answer', 'postgres')
    expect(Object.keys(report.faults).some((f) => f.startsWith('lost answer'))).toBe(true)
  }, 60_000)

  it('ends each transfer in its final bank status through out-of-order and repeated transfer events (SQLite)', async () => {
    const report = await short('transfer-events', 'sqlite')
    expect(report.transfers).toBe(report.credited)
  }, 60_000)
})

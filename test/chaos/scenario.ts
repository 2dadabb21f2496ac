import type { StarkBankEmulatorOptions } from '../../src/emulator/emulator.ts'
import type { Random } from './faults.ts'
import type { PaybridgeProcess } from './processes.ts'
import type { LedgerEngine, World } from './world.ts'

// One fault class a chaos run injects. The run (chaos.ts) owns the world, the invoices and the
// settle phase; a scenario says how the world is set up and what goes wrong in each cycle.

export interface ScenarioContext {
  world: World
  random: Random
  /** paybridge's processes; the first one receives the webhooks. */
  processes: PaybridgeProcess[]
  /** Counts a fault by kind, for the report. */
  count(kind: string, n?: number): void
  /** Work that outlives the cycle (a held lock, a frozen server); awaited before settling. */
  inBackground(work: Promise<unknown>): void
  say(line: string): void
  dir: string
  cycle: number
  cycles: number
  /** When this cycle ends (ms since the epoch). */
  cycleEnd: number
}

export interface Scenario {
  name: string
  /** One line for the run's header and the README. */
  description: string
  /** The ledgers it applies to (a PostgreSQL freeze has no SQLite counterpart). */
  ledgers: readonly LedgerEngine[]
  /** Length of one cycle. */
  cycleMs: number
  /** The fault phase lasts at least this long, whatever the cycle count (a 30 s outage must fit). */
  minFaultMs?: number
  /** paybridge processes sharing the ledger; default 1 (all roles). More run `web relay`. */
  processes?: number
  emulator?: Partial<StarkBankEmulatorOptions>
  /** Environment on top of the run's; `invoices` is how many the run creates. */
  env?: (invoices: number) => Record<string, string>
  /** `ledger reconcile` must find no mismatch at the end (late and second credits are not mismatches). */
  reconciles?: boolean
  /** Stripe event ids the run must see delivered (the mixed scenario sends them). */
  stripeIds?: string[]
  /** Before the first cycle, once paybridge runs. */
  start?(ctx: ScenarioContext): Promise<void> | void
  /** The faults of one cycle; the run then waits until the cycle's end. */
  cycle?(ctx: ScenarioContext): Promise<void> | void
  /** After the fault phase, before settling: finish what the scenario owes (unhook, send the rest). */
  finish?(ctx: ScenarioContext): Promise<void> | void
  /** During the settle phase, each poll: what an operator would do (replay, sync). */
  operate?(ctx: ScenarioContext): Promise<void> | void
}

export interface ScenarioOptions {
  seed: number
  stripeEvents: number
  volatileSqs: boolean
}

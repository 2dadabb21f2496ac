import type { OpenLedger } from '../adapters/ledger/open.ts'
import type { Config } from '../config.ts'
import type { Random } from '../domain/random.ts'
import type { Bank } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { Queue } from '../ports/queue.ts'

/** What one role of the process runs: built without side effects, started only where the role runs. */
export interface RoleModule {
  start(): void
  /** Drains what the role has in hand, then resolves. */
  stop(): Promise<void>
}

/** The adapters the composition root builds once and every role shares. */
export interface Shared {
  config: Config
  ledger: OpenLedger
  metrics: Metrics
  /** Stark Bank, every call timed into the metrics. */
  bank: Bank
  /** The Stark Bank events queue (embedded or SQS). */
  queue: Queue
  clock: Clock
  random: Random
  log: Log
}

/** What the use cases that talk to Stark Bank and the ledger take from the shared adapters. */
export const bankSteps = (s: Shared) => ({
  store: s.ledger.store,
  bank: s.bank,
  clock: s.clock,
  random: s.random,
  log: s.log,
  metrics: s.metrics,
})

import type { SQSClient } from '@aws-sdk/client-sqs'
import type { ReadinessCheck } from '../adapters/http/health.ts'
import type { GapReport } from '../app/fill-gaps.ts'
import type { Queue } from '../ports/queue.ts'
import { relayRole } from './relay.ts'
import type { RoleModule, Shared } from './shared.ts'
import { workerRole } from './worker.ts'

/** What the worker role needs beside the shared adapters. */
export interface WorkerExtras {
  /** The Stripe events queue, opened when Stripe forwarding is configured. */
  stripeQueue: Queue | undefined
  sqs: SQSClient | undefined
  gapFillAtStart: boolean
  gapRetryMs?: number[] | undefined
}

/**
 * The worker and relay roles as the rest of the process sees them, whether they run on its event loop
 * (`workerAndRelay`) or on a worker thread of their own (`workerThreadRoles`).
 */
export interface BackgroundRoles extends RoleModule {
  checks: { consumer: ReadinessCheck; transferRelay: ReadinessCheck }
  /** Records the events Stark Bank has not delivered (also runs at start and hourly). */
  fillGaps(): Promise<GapReport | undefined>
  /** Resolves once the roles run (their thread started); rejects with why they could not. */
  ready: Promise<void>
  /** Resolves with why if the roles stopped on their own (their thread died); never otherwise. */
  failed: Promise<string>
}

/** The worker and relay on this event loop; each started only where this process runs it. */
export async function workerAndRelay(
  shared: Shared,
  extras: WorkerExtras,
  runs: ('worker' | 'relay')[],
): Promise<BackgroundRoles> {
  const relay = relayRole(shared)
  // The relay goes at once when the worker has recorded transfers it may be waiting for.
  const worker = await workerRole({ ...shared, ...extras, relayed: relay.poke })
  const started = [...(runs.includes('worker') ? [worker] : []), ...(runs.includes('relay') ? [relay] : [])]
  return {
    checks: { consumer: worker.readiness, transferRelay: relay.readiness },
    fillGaps: worker.fillGaps,
    ready: Promise.resolve(),
    failed: new Promise<string>(() => {}),
    start() {
      for (const role of started) role.start()
    },
    async stop() {
      for (const role of started) await role.stop()
    },
  }
}

import { shownTime } from '../domain/ledger-time.ts'
import type { Random } from '../domain/random.ts'
import { type BackoffPolicy, backoffMs } from '../domain/retry.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'

/**
 * The relay's circuit breaker for faults of paybridge's access to Stark Bank (credentials, clock,
 * permissions): while open the relay sends nothing; after a backoff it lets one probe through (a
 * claim of a single transfer) and closes when that gets past the bank's access checks. Opening is
 * logged once as an error; the gauge and `/readyz` say it is open and why.
 */
export function relayCircuit(deps: {
  clock: Clock
  random: Random
  log: Log
  metrics?: Pick<Metrics, 'relayCircuit'> | undefined
  backoff?: BackoffPolicy
}) {
  const { clock, random, log, metrics } = deps
  const policy = deps.backoff ?? { baseMs: 5_000, capMs: 5 * 60_000 }
  let open: { reason: string; since: number; probes: number; probeAt: number } | undefined
  metrics?.relayCircuit(false, null)

  return {
    /** Whether the relay may claim now; when open, only at probe time (one transfer). */
    mayClaim: () => open === undefined || clock() >= open.probeAt,
    isOpen: () => open !== undefined,
    /** An access fault: open, or stay open with a longer wait before the next probe. */
    trip(reason: string): void {
      const now = clock()
      if (!open) {
        open = { reason, since: now, probes: 0, probeAt: now }
        log.error('Stark Bank refused paybridge access: transfer relay stopped sending (circuit open)', {
          reason,
          action:
            'check STARK_PROJECT_ID, STARK_PRIVATE_KEY and the host clock; the relay probes and resumes',
        })
        metrics?.relayCircuit(true, reason)
      }
      open.reason = reason
      open.probes++
      open.probeAt = now + backoffMs(open.probes, random, policy)
    },
    close(): void {
      if (!open) return
      log.info('Stark Bank accepts paybridge again: transfer relay resumed (circuit closed)', {
        wasOpenMs: clock() - open.since,
        reason: open.reason,
      })
      open = undefined
      metrics?.relayCircuit(false, null)
    },
    /** For `/readyz`: true, or why transfers are not being sent. */
    readiness: (): true | string =>
      open === undefined
        ? true
        : `transfer relay circuit open since ${shownTime(open.since)}: ${open.reason}`,
  }
}

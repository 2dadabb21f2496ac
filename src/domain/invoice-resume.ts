/**
 * How a run's last create attempt at Stark Bank ended, as the ledger remembers it. `unknown`: the
 * invoices may have been created (a timeout, a 5xx, a lost connection, a process that died or stalled
 * mid-call, or an earlier create of the same attempt that succeeded before a later one failed).
 * `refused`: Stark Bank definitively refused the attempt's only create calls; nothing of it exists.
 */
export type CreateOutcome = 'unknown' | 'refused'

export interface LastCreateAttempt {
  outcome: CreateOutcome
  /** When the attempt ended (or, for one that never answered, when its create call started). */
  at: number
}

/** How long Stark Bank's invoice lists may lag behind a create, by default: a resume waits longer. */
export const DEFAULT_RESUME_AFTER_UNKNOWN_MS = 5 * 60_000

/**
 * Whether a resume may create the invoices its lookup by run tag did not find. Invoices have no
 * idempotency key and new ones may not be visible to list queries yet, so after an unknown outcome
 * the lookup proves nothing until `waitMs` has passed: until then the resume only looks up.
 */
export function createDecision(
  last: LastCreateAttempt | null,
  now: number,
  waitMs: number,
): { kind: 'create' } | { kind: 'lookOnly'; until: number } {
  if (last === null) return { kind: 'create' }
  switch (last.outcome) {
    case 'refused':
      return { kind: 'create' }
    case 'unknown': {
      const until = last.at + waitMs
      return now >= until ? { kind: 'create' } : { kind: 'lookOnly', until }
    }
    default: {
      const never: never = last.outcome
      throw new Error(`unknown create outcome: ${String(never)}`)
    }
  }
}

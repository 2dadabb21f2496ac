import { type Column, sql } from 'drizzle-orm'

// One claim-number mechanism for every outbox kind (transfers and Stripe forwards), on both ledgers.
// `outbox.attempts` counts claims and never decreases: a claim's number fences the outcome writes it
// may make (`... WHERE status = 'in_flight' AND attempts = <number>`), so a relay holding a claim
// from before a replay can never match again. `outbox.free_attempts` counts the claims that do not
// count toward the retry limit; a replay sets it to `attempts`, which starts the retry count afresh.

/** An outbox row's counts before the claim being taken. */
export interface OutboxCounts {
  attempts: number
  freeAttempts: number
}

/** The claim about to be taken: its fencing number, and the tries it makes toward the retry limit. */
export function nextClaim(row: OutboxCounts): { attempt: number; tries: number } {
  const attempt = row.attempts + 1
  return { attempt, tries: attempt - row.freeAttempts }
}

/**
 * The outbox columns a replay writes: due now with a fresh retry count, the claim count kept.
 * `attempts` is the engine's `outbox.attempts` column.
 */
export function replayedOutbox(attempts: Column, now: number) {
  return {
    status: 'pending' as const,
    freeAttempts: sql<number>`${attempts}`,
    nextAttemptAt: now,
    leaseUntil: null,
    lastError: null,
    updatedAt: now,
  }
}

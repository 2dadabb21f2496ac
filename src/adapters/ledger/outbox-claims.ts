import { and, type Column, eq, sql } from 'drizzle-orm'

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

/** The outbox columns both engines' tables have, for conditions written once. */
export interface OutboxColumns {
  id: Column
  status: Column
  attempts: Column
  freeAttempts: Column
}

/** Error texts and reasons are kept to their first 1,000 characters (a stack or an HTML page is long). */
export const clipped = (text: string, max = 1000): string => (text.length > max ? text.slice(0, max) : text)

/** A new outbox row: due at once. Its id is stable, so inserting it twice changes nothing. */
export const pendingOutboxRow = (id: string, kind: 'transfer' | 'forward', refId: string, now: number) => ({
  id,
  kind,
  refId,
  status: 'pending' as const,
  nextAttemptAt: now,
  createdAt: now,
  updatedAt: now,
})

/** The row `id` while the claim numbered `attempt` still owns it. */
export const ownedOutbox = (outbox: OutboxColumns, id: string, attempt: number) =>
  and(eq(outbox.id, id), eq(outbox.status, 'in_flight'), eq(outbox.attempts, attempt))

/** The columns a claim writes: leased for `leaseMs`, one claim more. */
export const leasedOutbox = (outbox: OutboxColumns, now: number, leaseMs: number) => ({
  status: 'in_flight' as const,
  leaseUntil: now + leaseMs,
  attempts: sql<number>`${outbox.attempts} + 1`,
  updatedAt: now,
})

/** The columns of a row whose work is done. */
export const doneOutbox = (now: number) => ({
  status: 'done' as const,
  leaseUntil: null,
  lastError: null,
  updatedAt: now,
})

/** The columns of a failed claim tried again at `nextAttemptAt`. */
export const retriedOutbox = (error: string, nextAttemptAt: number, now: number) => ({
  status: 'pending' as const,
  nextAttemptAt,
  leaseUntil: null,
  lastError: clipped(error),
  updatedAt: now,
})

/** The columns of a claim that failed for good. */
export const deadOutbox = (reason: string, now: number) => ({
  status: 'dead' as const,
  leaseUntil: null,
  lastError: clipped(reason),
  updatedAt: now,
})

import type { ForwardStatus, ReplayAction } from '../domain/forward.ts'
import type { StripeEvent } from '../domain/stripe-event.ts'
import type { Store } from './store.ts'

/** A forward leased to one relay for one attempt. */
export interface ClaimedForward {
  /** The Stripe event id. */
  id: string
  type: string
  /** The exact text to POST. */
  body: string
  /**
   * This claim's number (the outbox row's claim count): it only grows, a replay included, and fences
   * recording the claim's outcome, so a relay holding a claim from before a replay changes nothing.
   */
  attempt: number
  /** Attempts since the forward was recorded or last replayed, this one included (from 1). */
  tries: number
  /** When the current retry window opened (the first attempt since recording or replay). */
  firstAttemptAt: number
}

/** A POST the downstream answered with a 2xx. */
export interface DeliveredForward {
  /** The Stripe event id. */
  id: string
  statusCode: number
  latencyMs: number
}

export type { ForwardStatus, ReplayAction }

/** Which forwards a replay concerns; the criteria combine (all must hold). */
export interface ReplayFilter {
  /** Only dead forwards. */
  dead?: boolean
  /** Only forwards recorded at or after this time (ms since the epoch). */
  since?: number
  /** Only this Stripe event. */
  eventId?: string
  /** Also send delivered events again. */
  force?: boolean
}

export interface ReplayEntry {
  id: string
  type: string
  status: ForwardStatus
  attempts: number
  lastError: string | null
  action: ReplayAction
}

/**
 * The ledger's steps for Stripe forwarding, each one atomic (a synchronous transaction on SQLite, an
 * async one on PostgreSQL).
 * Network calls happen between steps, never inside one. `deadLetter` is the consumer's step for
 * messages that are not Stripe events.
 */
export interface ForwardStore extends Pick<Store, 'deadLetter'> {
  /**
   * Writes the inbox row, the forward and its outbox row together. A Stripe event id seen before
   * changes nothing and is reported as a duplicate. `payload` is the queue message as received.
   */
  recordStripeEvent(
    event: StripeEvent,
    payload: string,
    now: number,
  ): Promise<{ kind: 'recorded' | 'duplicate' }>
  /** `recordStripeEvent` for a whole receive in one transaction. */
  recordStripeEvents(
    items: { event: StripeEvent; payload: string }[],
    now: number,
  ): Promise<{ kind: 'recorded' | 'duplicate' }[]>

  /**
   * Leases up to `limit` due forwards for `leaseMs`, counting an attempt on each. A lease that runs
   * out (the process died mid-POST) makes the forward due again.
   */
  claimForwards(limit: number, now: number, leaseMs: number): Promise<ClaimedForward[]>

  /**
   * The downstream took these events (one transaction for all): final. Wins over any other outcome
   * recorded for them.
   */
  forwardsDelivered(delivered: DeliveredForward[], now: number): Promise<void>

  /**
   * Claim `attempt` failed; try again at `nextAttemptAt`. Ignored when that claim no longer owns the
   * forward (its lease ran out and another claim took over, it was delivered, or it was replayed).
   */
  forwardRetry(
    id: string,
    attempt: number,
    failure: { statusCode: number | null; error: string; nextAttemptAt: number },
    now: number,
  ): Promise<void>

  /** Claim `attempt` failed for good; fenced like `forwardRetry`. */
  forwardDead(
    id: string,
    attempt: number,
    failure: { statusCode: number | null; error: string },
    now: number,
  ): Promise<void>

  /**
   * Finds the forwards matching `filter` and, unless `dryRun`, puts the dead ones (and, with `force`,
   * the delivered ones) back in the outbox with a fresh retry window, in one transaction.
   * Returns every match with what was (or would be) done to it, oldest first.
   */
  replayForwards(filter: ReplayFilter, now: number, options: { dryRun: boolean }): Promise<ReplayEntry[]>
}

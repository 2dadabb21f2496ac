/** How a webhook request ended, as the webhook answered it. */
export type WebhookOutcome =
  | 'accepted'
  | 'duplicate'
  | 'bad_signature'
  | 'malformed'
  | 'too_large'
  | 'unavailable'

/**
 * How a call to another system ended: the HTTP status it answered with, or why there was none.
 * The metrics adapter groups statuses into classes (2xx, 4xx, 5xx), so callers pass what they saw.
 */
export type CallOutcome = number | 'timeout' | 'network'

/** How an invoice run ended: issued, left to a run that already holds the slot, or failed (retried). */
export type SchedulerOutcome = 'issued' | 'taken' | 'failed'

/**
 * What paybridge counts and times, in its own words. Ledger-derived numbers (outbox, transfers,
 * forwards, queue age) are not reported here: the metrics adapter reads them from the ledger when
 * scraped, so they are right even after a restart or with several processes on one ledger.
 */
export interface Metrics {
  webhook(outcome: WebhookOutcome, source?: 'starkbank' | 'stripe'): void
  /** Time spent verifying one webhook signature (key fetch included). */
  verifyDuration(seconds: number): void
  queueReceived(queue: string, n: number): void
  queueAcked(queue: string, n: number): void
  queueDeadLettered(queue: string, n: number): void
  /** A receive loop of the queue's consumer paused (`true`) by an outage, or resumed (`false`). */
  consumerPaused(queue: string, paused: boolean): void
  /** One ledger or queue failure met by the queue's consumer: it pauses instead of counting it against the message. */
  consumerInfrastructureFailure(queue: string): void
  /** One Stark Bank call; `operation` is the Bank port's method in snake case (`create_transfers`). */
  bankCall(operation: string, outcome: CallOutcome, seconds: number): void
  /** One POST to the Stripe-processing service. */
  downstreamCall(outcome: CallOutcome, seconds: number): void
  schedulerRun(outcome: SchedulerOutcome): void
  invoicesIssued(n: number): void
  /** The transfer relay's circuit opened (with why: Stark Bank refused paybridge's access) or closed. */
  relayCircuit(open: boolean, reason: string | null): void
  /** A relay outcome write refused because another relay had taken the transfer over (`step`: retry, dead…). */
  relayStaleWrite(step: string): void
  /** The result of the latest reconciliation (`at`: ms since the epoch). */
  reconciliation(result: { ok: boolean; mismatches: number }, at: number): void
}

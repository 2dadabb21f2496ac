import type { BankEvent, EventDecision } from '../domain/bank-event.ts'
import type { PlannedInvoice } from '../domain/invoice-batch.ts'
import type { TransferPlan } from '../domain/transfer.ts'

/**
 * The ledger, shaped as whole steps: each method is one atomic write, so an adapter makes it a
 * synchronous transaction on SQLite or an async one on PostgreSQL. Network calls happen between
 * steps, never inside one.
 */
export interface Store {
  // Invoice scheduler
  /** Writes the run and its invoices; `taken` when the slot already has a run (overlap or another process). */
  planRun(
    run: { id: string; slot: string; invoices: PlannedInvoice[] },
    now: number,
  ): Promise<{ kind: 'planned' } | { kind: 'taken'; runId: string }>
  /** Runs planned but not yet fully issued (after a crash or a failed call), oldest first. */
  unfinishedRuns(): Promise<{ id: string; slot: string; attempts: number; invoices: PlannedInvoice[] }[]>
  /**
   * Takes a planned run for issuing, so two schedulers never issue one run at once (both would find its
   * invoices missing at Stark Bank and create them twice). `undefined` when another scheduler holds it
   * or it is no longer planned. The claim ends with `release()` or with its holder: on PostgreSQL when
   * the holder's session ends, on SQLite when its process is gone or after `leaseMs`.
   */
  claimRun(runId: string, now: number, leaseMs: number): Promise<RunClaim | undefined>
  markRunIssued(runId: string, issued: { invoiceId: string; bankId: string }[], now: number): Promise<void>
  markRunFailed(runId: string, error: string, now: number): Promise<void>
  lastRun(): Promise<{ id: string; slot: string; status: string; plannedAt: number } | undefined>

  // Worker
  /**
   * Records a Stark Bank event in the inbox and acts on its decision in the same transaction: the
   * invoice marked credited, the transfer and its outbox row added. A repeated event id, or a second
   * credit of the same invoice, changes nothing.
   */
  recordBankEvent(
    input: { event: BankEvent; payload: string; decision: EventDecision; transfer?: TransferPlan },
    now: number,
  ): Promise<{ kind: 'recorded' } | { kind: 'duplicate' }>
  /** `recordBankEvent` for many events in one transaction (one commit for a whole receive). */
  recordBankEvents(
    inputs: { event: BankEvent; payload: string; decision: EventDecision; transfer?: TransferPlan }[],
    now: number,
  ): Promise<({ kind: 'recorded' } | { kind: 'duplicate' })[]>

  // Outbox relay
  /** Leases up to `limit` due transfer rows; a lease that runs out (crash) makes the row due again. */
  claimTransfers(limit: number, now: number, leaseMs: number): Promise<ClaimedTransfer[]>
  transferCreated(transferId: string, bank: { id: string; status: string }, now: number): Promise<void>
  /** `transferCreated` for a whole relay batch in one transaction. */
  transfersCreated(
    created: { transferId: string; bank: { id: string; status: string } }[],
    now: number,
  ): Promise<void>
  /** Parks a claimed transfer until an operator approves it (over a money limit). */
  transferHeld(transferId: string, reason: string, now: number): Promise<void>
  /** Releases a held transfer past the limits. `unknown` if no such transfer; `not-held` if it is not waiting. */
  approveTransfer(
    transferId: string,
    now: number,
  ): Promise<{ kind: 'approved' } | { kind: 'unknown' } | { kind: 'not-held'; status: string }>
  /** Cents of transfers Stark Bank accepted since `since` (ms). */
  sentSince(since: number): Promise<number>
  transferRetry(transferId: string, error: string, nextAttemptAt: number, now: number): Promise<void>
  transferDead(transferId: string, reason: string, now: number): Promise<void>

  /** Keeps a message paybridge cannot use, with the reason. Idempotent per (queue, message id). */
  deadLetter(
    entry: { queue: string; messageId: string; body: string; reason: string; receiveCount: number },
    now: number,
  ): Promise<void>
}

export interface RunClaim {
  release(): Promise<void>
}

export interface ClaimedTransfer {
  transferId: string
  /** Attempts so far, this one included. */
  attempt: number
  plan: TransferPlan
  /** An operator approved it past the amount limits. */
  approved: boolean
}

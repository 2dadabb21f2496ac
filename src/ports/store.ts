import type { BankEvent, EventDecision } from '../domain/bank-event.ts'
import type { PlannedInvoice } from '../domain/invoice-batch.ts'
import type { CreateOutcome, LastCreateAttempt } from '../domain/invoice-resume.ts'
import type { TransferPlan } from '../domain/transfer.ts'
import type { TransferLimits } from '../domain/transfer-limits.ts'

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
  unfinishedRuns(): Promise<
    {
      id: string
      slot: string
      attempts: number
      invoices: PlannedInvoice[]
      /** The last create attempt at Stark Bank, if any: after `unknown` a resume waits before creating. */
      lastCreate: LastCreateAttempt | null
    }[]
  >
  /**
   * Takes a planned run for issuing, so two schedulers never issue one run at once (both would find its
   * invoices missing at Stark Bank and create them twice). `undefined` when another scheduler holds it
   * or it is no longer planned. The claim is a token on the run row, alike on both engines; it ends
   * with `release()`, when its process is gone from this host, or `leaseMs` after its last
   * `stillHeld` (a dropped connection does not end it: its holder may still be mid-call).
   */
  claimRun(runId: string, now: number, leaseMs: number): Promise<RunClaim | undefined>
  /**
   * Records the run's invoices at Stark Bank and the run issued, in one transaction. With `claim` it
   * is fenced: `stale` and nothing written when another claim has taken the run since. Without one
   * (fixtures, operators' tools) it is not.
   */
  markRunIssued(
    runId: string,
    issued: { invoiceId: string; bankId: string }[],
    now: number,
    claim?: RunClaim,
  ): Promise<Fenced>
  /**
   * Counts a failed attempt. With `outcome` (the attempt called create at Stark Bank) it is also the
   * run's last create attempt, ended `now`; without, the last create attempt stays as it was.
   */
  markRunFailed(runId: string, error: string, now: number, outcome?: CreateOutcome): Promise<void>
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
  ): Promise<RecordedEvent>
  /** `recordBankEvent` for many events in one transaction (one commit for a whole receive). */
  recordBankEvents(
    inputs: { event: BankEvent; payload: string; decision: EventDecision; transfer?: TransferPlan }[],
    now: number,
  ): Promise<RecordedEvent[]>

  // Outbox relay
  /**
   * Leases up to `limit` due transfer rows; a lease that runs out (crash) makes the row due again.
   * With `limits`, decides send or hold for each row in the same atomic step, against what is created
   * this UTC day plus what other claims have reserved (so relays claiming at once never pass the daily
   * limit together): rows held are parked for approval, not leased; rows sent reserve their amount.
   */
  claimTransfers(
    limit: number,
    now: number,
    leaseMs: number,
    limits?: TransferLimits,
  ): Promise<TransferClaims>
  /**
   * Stark Bank holds the transfer: created, and it never moves back. Stark Bank's word is recorded
   * even when the claim was lost meanwhile (another relay's retry or dead cannot undo it); `stale`
   * then says so.
   */
  transferCreated(claim: TransferClaim, bank: { id: string; status: string }, now: number): Promise<Fenced>
  /** `transferCreated` for a whole relay batch in one transaction. */
  transfersCreated(
    created: { claim: TransferClaim; bank: { id: string; status: string } }[],
    now: number,
  ): Promise<Fenced[]>
  /** Releases a held transfer past the limits. `unknown` if no such transfer; `not-held` if it is not waiting. */
  approveTransfer(
    transferId: string,
    now: number,
  ): Promise<{ kind: 'approved' } | { kind: 'unknown' } | { kind: 'not-held'; status: string }>
  /** Cents of transfers Stark Bank accepted since `since` (ms). */
  sentSince(since: number): Promise<number>
  /**
   * Back to pending until `nextAttemptAt`; fenced by the claim (a lost claim changes nothing).
   * `uncounted`: this claim does not count toward the retry limit (nothing reached Stark Bank, or it
   * only looked up a transfer known to exist). `atBank`: this claim's send may have reached Stark
   * Bank (its outcome was unknown, or Stark Bank refused the externalId); from now on the transfer is
   * never dead (sets at_bank_at once). `unresolved`: it may exist at Stark Bank but is not confirmed
   * (retries past the limit, or refused after an unknown outcome); the transfer is flagged (`error`
   * becomes its reason) and stays pending.
   */
  transferRetry(
    claim: TransferClaim,
    retry: {
      error: string
      nextAttemptAt: number
      uncounted?: boolean
      atBank?: boolean
      unresolved?: boolean
    },
    now: number,
  ): Promise<Fenced>
  /** Open (pending) transfers flagged unresolved: retries passed the limit, outcome still unknown. */
  unresolvedTransfers(): Promise<number>
  /**
   * Stark Bank refused it for good (a 4xx with its reasons, neither a duplicate nor an access fault);
   * releases its daily reservation. Fenced by the claim.
   */
  transferDead(claim: TransferClaim, reason: string, now: number): Promise<Fenced>
  /**
   * Dead transfers (all, or the one named) back to pending with a fresh retry count, their
   * reservation released, in one transaction; `dryRun` only lists them. Safe to repeat: each keeps its
   * externalId, so Stark Bank refuses a second one and the relay finds the first by lookup.
   */
  replayDeadTransfers(
    filter: { transferId?: string },
    now: number,
    options: { dryRun: boolean },
  ): Promise<{ transferId: string; amount: number; reason: string | null }[]>

  /** Keeps a message paybridge cannot use, with the reason. Idempotent per (queue, message id). */
  deadLetter(
    entry: { queue: string; messageId: string; body: string; reason: string; receiveCount: number },
    now: number,
  ): Promise<void>
  /** Kept dead letters, oldest first, at most `limit`. */
  listDeadLetters(limit: number): Promise<DeadLetter[]>
  /** A kept dead letter by its row id, for replay; `undefined` when there is none. */
  deadLetterById(id: number): Promise<DeadLetter | undefined>
  /** Removes a dead letter (its body is back on its queue); `false` when it was already gone. */
  removeDeadLetter(id: number): Promise<boolean>
}

/**
 * What recording an event did, with the outcome text kept on its inbox row: a transfer planned, a
 * credit recorded but not paid out (nothing owed, or not issued by paybridge), a later credit kept as
 * an anomaly, a transfer event kept until its transfer is created, a transfer status applied, nothing.
 */
export type RecordedEvent =
  | {
      kind: 'recorded'
      effect: 'transfer-planned' | 'not-paid' | 'anomaly' | 'unmatched' | 'status' | 'nothing'
      outcome: string
    }
  | { kind: 'duplicate' }

export interface DeadLetter {
  id: number
  queue: string
  messageId: string
  body: string
  reason: string
  receiveCount: number
}

export interface RunClaim {
  /** This claim's token on the run row; a later claim of the run replaces it. */
  readonly token: string
  /**
   * In a transaction: whether this claim still holds the run (its token on the row, the run still
   * planned), renewing the lease from `now` when it does. Asked right before each create call.
   */
  stillHeld(now: number): Promise<boolean>
  /**
   * `stillHeld`, and in the same transaction the run's last create attempt becomes `unknown` from
   * `now`: asked right before each create call, so a process that dies mid-call leaves it so.
   */
  beforeCreate(now: number): Promise<boolean>
  release(): Promise<void>
}

/** A relay's claim on one transfer. `attempt` (the outbox row's claim count) is its fencing token. */
export interface TransferClaim {
  transferId: string
  /** Claims so far, this one included; every claim gets a new number. */
  attempt: number
}

/** The outcome of a write fenced by a claim: `stale` when another claim had taken the row over. */
export type Fenced = { kind: 'written' } | { kind: 'stale' }

export interface ClaimedTransfer extends TransferClaim {
  /** Claims that count toward the retry limit, this one included. */
  tries: number
  plan: TransferPlan
  /** An operator approved it past the amount limits. */
  approved: boolean
  /** An earlier claim reserved it and its outcome is unknown: look it up before sending again. */
  reserved: boolean
  /** An earlier send may have reached Stark Bank (at_bank_at): never dead; looked up before sending. */
  atBank: boolean
  /** Already flagged unresolved (retries passed the limit, outcome unknown). */
  unresolved: boolean
}

export interface TransferClaims {
  claimed: ClaimedTransfer[]
  /** Rows the claim parked for an operator's approval instead (over a limit). */
  held: { transferId: string; amount: number; reason: string }[]
}

/**
 * Thrown by ledger adapters when the ledger cannot take the step right now (unreachable, busy,
 * locked, I/O error, timeout, serialization failure): nothing about the input is wrong, and the
 * same step later may work. Callers pause and retry; they never count it against the message.
 */
export class LedgerUnavailable extends Error {
  override name = 'LedgerUnavailable'
}

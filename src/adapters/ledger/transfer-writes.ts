import { and, type Column, eq, gte, isNotNull, type Placeholder, type SQL, sql } from 'drizzle-orm'
import { utcDayStart } from '../../domain/transfer-limits.ts'
import type { Fenced, Store, TransferClaim } from '../../ports/store.ts'
import { columnsOf } from './columns.ts'
import { clipped, deadOutbox, type OutboxColumns, ownedOutbox, retriedOutbox } from './outbox-claims.ts'
import { type TransferRow, transferOutboxId } from './transfer-claims.ts'

// The transfer lifecycle as both ledgers write it, once: the columns each relay and operator step
// writes on the transfer and its outbox row, and the conditions that fence them. The engines run the
// statements in their own transactions.

/** The `transfers` columns both engines' tables have, for conditions and increments written once. */
export interface TransferColumns {
  id: Column
  status: Column
  amount: Column
  sentAt: Column
  reservedAt: Column
  atBankAt: Column
  unresolvedAt: Column
}

type TransferRetry = Parameters<Store['transferRetry']>[1]

export const written: Fenced = { kind: 'written' }
export const stale: Fenced = { kind: 'stale' }

/** The transfer's outbox row, while `claim` still owns it. */
export const ownedTransfer = (outbox: OutboxColumns, claim: TransferClaim) =>
  ownedOutbox(outbox, transferOutboxId(claim.transferId), claim.attempt)

/** The transfer `id` while it is pending: an outcome never moves a created, dead or held one. */
export const stillPending = (transfers: TransferColumns, id: string) =>
  and(eq(transfers.id, id), eq(transfers.status, 'pending'))

/**
 * The two parts of what counts against today's limit: transfers created since the UTC day began,
 * and those a claim reserved that have not ended (in flight, retrying, or known to be at Stark Bank).
 * Two index searches rather than one OR, which would read every created transfer ever. Only a created
 * transfer has a sent_at (and created never moves back), so sent_at alone finds today's.
 */
export const reservedTodayParts = (transfers: TransferColumns, now: number): [SQL, SQL | undefined] =>
  reservedSinceParts(transfers, utcDayStart(now))

/** The same parts from a given day start (a placeholder in a prepared statement). */
export const reservedSinceParts = (
  transfers: TransferColumns,
  dayStart: number | Placeholder,
): [SQL, SQL | undefined] => [
  gte(transfers.sentAt, dayStart),
  and(eq(transfers.status, 'pending'), isNotNull(transfers.reservedAt)),
]

/** Pending transfers whose outcome at Stark Bank is not known: the unresolved gauge. */
export const unresolvedWhere = (transfers: TransferColumns) =>
  and(eq(transfers.status, 'pending'), isNotNull(transfers.unresolvedAt))

/** A claim reserves the amount of each transfer it leases (once: the first claim's time stays). */
export const reservedTransfer = (transfers: TransferColumns, now: number) => ({
  reservedAt: sql<number>`coalesce(${transfers.reservedAt}, ${now})`,
})

/** A claim taking over a lease that ran out: the send before may be at Stark Bank. */
export const atBankTransfer = (transfers: TransferColumns, now: number) => ({
  atBankAt: sql<number>`coalesce(${transfers.atBankAt}, ${now})`,
})

/** A transfer parked for approval by the daily limits, and its outbox row. */
export const heldTransfer = (reason: string, now: number) => ({
  status: 'held' as const,
  reason,
  updatedAt: now,
})
export const heldOutbox = (reason: string, now: number) => ({
  status: 'held' as const,
  leaseUntil: null,
  lastError: reason,
  updatedAt: now,
})

/** Stark Bank created the transfer: a fact, whoever reports it. */
export const createdTransfer = (bank: { id: string; status: string }, now: number) => ({
  status: 'created' as const,
  starkId: bank.id,
  bankStatus: bank.status,
  reason: null,
  sentAt: now,
  updatedAt: now,
})

/** The outbox columns of a retry; an uncounted one does not count toward the retry limit. */
export const retriedTransferOutbox = (outbox: OutboxColumns, retry: TransferRetry, now: number) => ({
  ...retriedOutbox(retry.error, retry.nextAttemptAt, now),
  ...(retry.uncounted ? { freeAttempts: sql<number>`${outbox.freeAttempts} + 1` } : {}),
})

/** The transfer columns of a retry after an unknown outcome; undefined when it writes none. */
export function retriedTransfer(transfers: TransferColumns, retry: TransferRetry, now: number) {
  if (!retry.atBank && !retry.unresolved) return undefined
  return {
    ...(retry.atBank ? atBankTransfer(transfers, now) : {}),
    ...(retry.unresolved ? { unresolvedAt: sql<number>`coalesce(${transfers.unresolvedAt}, ${now})` } : {}),
    reason: clipped(retry.error),
    updatedAt: now,
  }
}

/** A transfer that failed for good: its reservation ends. */
export const deadTransfer = (reason: string, now: number) => ({
  status: 'dead' as const,
  reason: clipped(reason),
  reservedAt: null,
  updatedAt: now,
})

/** A dead transfer replayed: pending again, nothing reserved, nothing known about it at the bank. */
export const replayedTransfer = (now: number) => ({
  status: 'pending' as const,
  reason: null,
  reservedAt: null,
  unresolvedAt: null,
  updatedAt: now,
})

/** A held transfer an operator approved, and its outbox row: due at once. */
export const approvedTransfer = (now: number) => ({
  status: 'pending' as const,
  approvedAt: now,
  reason: null,
  updatedAt: now,
})
export const approvedOutbox = (now: number) => ({
  status: 'pending' as const,
  nextAttemptAt: now,
  lastError: null,
  updatedAt: now,
})

/** A skipped transfer released when its invoice turns out to be paybridge's. */
export const releasedTransfer = (now: number) => ({
  status: 'pending' as const,
  reason: null,
  updatedAt: now,
})

/** The dead transfers a replay concerns (all, or the one named), oldest first. */
export const deadTransfersWhere = (transfers: TransferColumns, filter: { transferId?: string }) =>
  and(
    eq(transfers.status, 'dead'),
    filter.transferId === undefined ? undefined : eq(transfers.id, filter.transferId),
  )

/** Transfers created since `since`: what the sent gauge sums. */
export const sentSinceWhere = (transfers: TransferColumns, since: number) =>
  and(eq(transfers.status, 'created'), gte(transfers.sentAt, since))

/** What a claim reads of each due transfer (a TransferRow), from either engine's `transfers`. */
export const transferRowColumns = <T extends Record<keyof TransferRow, Column>>(transfers: T) =>
  columnsOf(transfers, 'id', 'request', 'amount', 'approvedAt', 'reservedAt', 'atBankAt', 'unresolvedAt')

/** The relay's steps of the Store, which each engine's transfer outbox implements. */
export type TransferSteps = Pick<
  Store,
  | 'claimTransfers'
  | 'transferCreated'
  | 'transfersCreated'
  | 'unresolvedTransfers'
  | 'transferRetry'
  | 'transferDead'
  | 'replayDeadTransfers'
>

/** How a claim ends: the columns on its outbox row (while the claim owns it), then on its transfer. */
export interface ClaimEnd {
  outbox: ReturnType<typeof retriedTransferOutbox> | ReturnType<typeof deadOutbox>
  transfer: ReturnType<typeof retriedTransfer> | ReturnType<typeof deadTransfer>
}

/** A claim ending in a retry (see retriedTransferOutbox, retriedTransfer). */
export const retryEnd = (
  tables: { outbox: OutboxColumns; transfers: TransferColumns },
  retry: TransferRetry,
  now: number,
): ClaimEnd => ({
  outbox: retriedTransferOutbox(tables.outbox, retry, now),
  transfer: retriedTransfer(tables.transfers, retry, now),
})

/** A claim ending with its transfer dead. */
export const deadEnd = (reason: string, now: number): ClaimEnd => ({
  outbox: deadOutbox(reason, now),
  transfer: deadTransfer(reason, now),
})

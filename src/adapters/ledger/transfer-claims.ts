import type { TransferPlan } from '../../domain/transfer.ts'
import { budgetClaims, type LimitDecision, type TransferLimits } from '../../domain/transfer-limits.ts'
import type { ClaimedTransfer, TransferClaims } from '../../ports/store.ts'
import { nextClaim, type OutboxCounts } from './outbox-claims.ts'

// What both ledgers do between reading the due rows and writing the claim: one place, so SQLite and
// PostgreSQL decide send or hold alike.

/** A transfer's outbox row has a stable id: updates find it by primary key. */
export const transferOutboxId = (transferId: string) => `transfer:${transferId}`

export interface DueTransfer extends OutboxCounts {
  id: string
  refId: string
  /** Taken over from a claim whose lease ran out: its send may have reached Stark Bank. */
  expired: boolean
}

/**
 * Claimed transfers that may be at Stark Bank because the claim before died or stalled, perhaps after
 * its send: the claim records at_bank_at for them, as a retry after an unknown outcome does.
 */
export const takenOver = (claims: TransferClaims, due: DueTransfer[]): string[] => {
  const expired = new Set(due.filter((d) => d.expired).map((d) => d.refId))
  return claims.claimed.filter((c) => expired.has(c.transferId)).map((c) => c.transferId)
}

export interface TransferRow {
  id: string
  request: string
  amount: number
  approvedAt: number | null
  reservedAt: number | null
  atBankAt: number | null
  unresolvedAt: number | null
}

/**
 * Splits due rows into the ones to lease (each with its new claim number) and the ones to hold,
 * deciding with `budgetClaims` when there are limits. `reservedToday` is only read with limits.
 */
export function planClaims(
  due: DueTransfer[],
  rows: TransferRow[],
  limits: TransferLimits | undefined,
  reservedToday: () => number,
): TransferClaims {
  const byId = new Map(rows.map((r) => [r.id, r]))
  const found = due.map((d) => {
    const row = byId.get(d.refId)
    if (!row) throw new Error(`outbox row ${d.id} points at missing transfer ${d.refId}`)
    return { d, row }
  })
  const decisions: LimitDecision[] = limits
    ? budgetClaims(
        limits,
        reservedToday(),
        found.map(({ row }) => ({
          amount: row.amount,
          approved: row.approvedAt !== null,
          reserved: row.reservedAt !== null || row.atBankAt !== null,
        })),
      )
    : found.map(() => ({ kind: 'send' }))
  const result: TransferClaims = { claimed: [], held: [] }
  found.forEach(({ d, row }, i) => {
    const decision = decisions[i] as LimitDecision
    if (decision.kind === 'hold') {
      result.held.push({ transferId: row.id, amount: row.amount, reason: decision.reason })
      return
    }
    const claim: ClaimedTransfer = {
      transferId: row.id,
      ...nextClaim(d),
      plan: JSON.parse(row.request) as TransferPlan,
      approved: row.approvedAt !== null,
      reserved: row.reservedAt !== null,
      atBank: row.atBankAt !== null || d.expired,
      unresolved: row.unresolvedAt !== null,
    }
    result.claimed.push(claim)
  })
  return result
}

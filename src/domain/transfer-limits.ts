import { brl } from './money.ts'

/** Caps on money leaving through paybridge; amounts in cents. */
export interface TransferLimits {
  maxPerTransfer: number
  maxPerDay: number
}

export type LimitDecision = { kind: 'send' } | { kind: 'hold'; reason: string }

/**
 * Whether a transfer may go now. Over either cap it waits in the outbox for an operator's approval;
 * an approved transfer goes regardless. `sentToday` is what already left this UTC day.
 */
export function checkTransferLimits(
  limits: TransferLimits,
  amount: number,
  sentToday: number,
  approved: boolean,
): LimitDecision {
  if (approved) return { kind: 'send' }
  if (amount > limits.maxPerTransfer) {
    return {
      kind: 'hold',
      reason: `amount ${brl(amount)} over the per-transfer limit ${brl(limits.maxPerTransfer)}`,
    }
  }
  if (sentToday + amount > limits.maxPerDay) {
    return {
      kind: 'hold',
      reason: `daily limit ${brl(limits.maxPerDay)} would be passed (${brl(sentToday)} already sent or on its way today, this one ${brl(amount)})`,
    }
  }
  return { kind: 'send' }
}

/** Start of the UTC day holding `now` (ms). */
export function utcDayStart(now: number): number {
  return now - (now % 86_400_000)
}

/** A row a relay is claiming, as the daily budget sees it. */
export interface BudgetRow {
  amount: number
  approved: boolean
  /** An earlier claim already counted it (its outcome is unknown): it goes without a new check. */
  reserved: boolean
}

/**
 * Send or hold for each row a relay claims, in claim order. `reservedToday` is what already counts
 * against today's limit: transfers created this UTC day plus those reserved by a claim and not yet
 * ended. Each row sent reserves its amount for the rows after it. A reserved row is never held: it
 * may already be at Stark Bank, so it must be looked up, not parked.
 */
export function budgetClaims(
  limits: TransferLimits,
  reservedToday: number,
  rows: BudgetRow[],
): LimitDecision[] {
  let used = reservedToday
  return rows.map((row) => {
    if (row.reserved) return { kind: 'send' }
    const decision = checkTransferLimits(limits, row.amount, used, row.approved)
    if (decision.kind === 'send') used += row.amount
    return decision
  })
}

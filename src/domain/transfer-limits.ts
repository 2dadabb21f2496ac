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
    return { kind: 'hold', reason: `amount ${amount} over the per-transfer limit ${limits.maxPerTransfer}` }
  }
  if (sentToday + amount > limits.maxPerDay) {
    return {
      kind: 'hold',
      reason: `daily limit ${limits.maxPerDay} would be passed (${sentToday} already sent today, this one ${amount})`,
    }
  }
  return { kind: 'send' }
}

/** Start of the UTC day holding `now` (ms). */
export function utcDayStart(now: number): number {
  return now - (now % 86_400_000)
}

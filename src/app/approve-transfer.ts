import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Store } from '../ports/store.ts'

export type ApproveOutcome = { kind: 'approved' } | { kind: 'unknown' } | { kind: 'not-held'; status: string }

/**
 * An operator releases a transfer held by TRANSFER_MAX_AMOUNT / TRANSFER_MAX_DAILY_AMOUNT: it goes back
 * to the outbox and the relay sends it next. Only a held transfer can be approved; the outcome says
 * which it was (`unknown`: no such transfer; `not-held`: it is in another state).
 */
export function transferApprover(deps: { store: Pick<Store, 'approveTransfer'>; clock: Clock; log: Log }) {
  return async function approve(transferId: string): Promise<ApproveOutcome> {
    const outcome = await deps.store.approveTransfer(transferId, deps.clock())
    if (outcome.kind === 'approved')
      deps.log.info('transfer approved; the relay sends it next', { transferId })
    return outcome
  }
}

/** What an operator is told when an approval changed nothing. */
export function describeRefusedApproval(
  transferId: string,
  outcome: Exclude<ApproveOutcome, { kind: 'approved' }>,
) {
  switch (outcome.kind) {
    case 'unknown':
      return `no transfer "${transferId}"`
    case 'not-held':
      return `transfer "${transferId}" is ${outcome.status}, not held`
  }
}

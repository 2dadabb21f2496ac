// A Stripe forward's lifecycle rules, the same on both ledgers.

export type ForwardStatus = 'pending' | 'delivered' | 'dead'

/** What a replay does to one forward. */
export type ReplayAction = 'requeue' | 'resend' | 'skip-delivered' | 'skip-pending'

/**
 * A replay requeues a dead forward, sends a delivered one again only when forced, and leaves a pending
 * one alone (it is still on its way).
 */
export function replayAction(status: ForwardStatus, force: boolean | undefined): ReplayAction {
  switch (status) {
    case 'dead':
      return 'requeue'
    case 'delivered':
      return force ? 'resend' : 'skip-delivered'
    case 'pending':
      return 'skip-pending'
  }
}

/** Whether a replay action puts the forward back in the outbox. */
export const replaysForward = (action: ReplayAction): boolean => action === 'requeue' || action === 'resend'

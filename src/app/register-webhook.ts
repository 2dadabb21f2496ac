import {
  PAYBRIDGE_SUBSCRIPTIONS,
  type Subscription,
  subscriptionState,
} from '../domain/webhook-subscription.ts'
import type { Bank, BankWebhook } from '../ports/bank.ts'

export type Registration =
  | { kind: 'created'; webhook: BankWebhook }
  /** Already there: nothing was created. */
  | { kind: 'exists'; at: Subscription[] }
  /** Subscriptions at the URL lack `missing`; nothing was changed (Stark Bank cannot edit one). */
  | { kind: 'incomplete'; at: Subscription[]; missing: string[] }
  | { kind: 'replaced'; removed: Subscription[]; webhook: BankWebhook }

/**
 * Subscribes `url` to the services paybridge needs, once: a second run finds it and creates nothing.
 * `replace` deletes the subscriptions at the URL that lack a service, then creates a complete one.
 */
export async function registerWebhook(
  bank: Pick<Bank, 'webhooks' | 'registerWebhook' | 'removeWebhook'>,
  url: string,
  options: { replace: boolean },
): Promise<Registration> {
  const state = subscriptionState(await bank.webhooks(), url)
  switch (state.kind) {
    case 'complete':
      return { kind: 'exists', at: state.at }
    case 'incomplete': {
      if (!options.replace) return state
      for (const webhook of state.at) await bank.removeWebhook(webhook.id)
      const webhook = await bank.registerWebhook(url, [...PAYBRIDGE_SUBSCRIPTIONS])
      return { kind: 'replaced', removed: state.at, webhook }
    }
    case 'missing':
      return { kind: 'created', webhook: await bank.registerWebhook(url, [...PAYBRIDGE_SUBSCRIPTIONS]) }
  }
}

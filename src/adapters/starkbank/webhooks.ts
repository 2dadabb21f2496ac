import starkbank from 'starkbank'
import type { Bank, BankWebhook } from '../../ports/bank.ts'
import { sdkCall } from './bank-errors.ts'

const toBankWebhook = (w: starkbank.Webhook): BankWebhook => ({
  id: String(w.id),
  url: w.url,
  subscriptions: [...(w.subscriptions ?? [])],
})

/**
 * The Bank's webhook subscriptions over the SDK (`starkbank.webhook`). Stark Bank has no update for
 * a subscription: a changed one is deleted and created again.
 */
export function starkWebhooks(
  user: starkbank.Project,
): Pick<Bank, 'webhooks' | 'registerWebhook' | 'removeWebhook'> {
  return {
    async webhooks() {
      const all: BankWebhook[] = []
      let cursor: string | null = null
      // page(), not query(): concurrent query() iterators share one global limit in the SDK.
      do {
        const [items, next]: [starkbank.Webhook[], string | null] = await sdkCall('list webhooks', () =>
          starkbank.webhook.page({ cursor, limit: 100, user }),
        )
        all.push(...items.map(toBankWebhook))
        cursor = next
      } while (cursor)
      return all
    },

    async registerWebhook(url, subscriptions) {
      const created = await sdkCall('create the webhook', () =>
        starkbank.webhook.create({ url, subscriptions, user }),
      )
      return toBankWebhook(created)
    },

    async removeWebhook(id) {
      await sdkCall('delete the webhook', () => starkbank.webhook.delete(id, { user }))
    },
  }
}

import { type PageRequest, pageOf } from './pages.ts'
import { starkTime, type WireError, type WireInvoice, type WireTransfer } from './wire.ts'

/** A webhook subscription as `/v2/webhook` sends it. */
export interface WireWebhook {
  id: string
  url: string
  subscriptions: string[]
}

/** The services a Stark Bank webhook can subscribe to (the SDK's list). */
export const WEBHOOK_SERVICES = [
  'transfer',
  'invoice',
  'deposit',
  'brcode-payment',
  'boleto',
  'boleto-holmes',
  'boleto-payment',
  'utility-payment',
] as const

export type WebhookInput =
  | { ok: true; url: string; subscriptions: string[] }
  | { ok: false; errors: WireError[] }

/** Checks a `POST /v2/webhook` body: an absolute http(s) URL and a non-empty list of known services. */
export function validateWebhook(body: unknown): WebhookInput {
  const { url, subscriptions } = (body ?? {}) as { url?: unknown; subscriptions?: unknown }
  const errors: WireError[] = []
  if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    errors.push({
      code: 'invalidUrl',
      message: `url must be an absolute http(s) URL, got ${JSON.stringify(url)}`,
    })
  }
  const list = Array.isArray(subscriptions) ? subscriptions : []
  const unknown = list.filter((s) => !(WEBHOOK_SERVICES as readonly unknown[]).includes(s))
  if (list.length === 0 || unknown.length > 0) {
    errors.push({
      code: 'invalidSubscriptions',
      message: `subscriptions must be a non-empty list of ${WEBHOOK_SERVICES.join(', ')}; got ${JSON.stringify(subscriptions)}`,
    })
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, url: url as string, subscriptions: list }
}

/** The workspace's webhook subscriptions, in memory. */
export function webhookSubscriptions(nextId: () => string) {
  const all: WireWebhook[] = []
  return {
    create(url: string, subscriptions: string[]): WireWebhook {
      const webhook = { id: nextId(), url, subscriptions: [...subscriptions] }
      all.push(webhook)
      return structuredClone(webhook)
    },
    get: (id: string) => structuredClone(all.find((w) => w.id === id)),
    list: (page: PageRequest) => pageOf(all, () => true, page),
    /** The URLs subscribed to `service`, oldest first. */
    urlsFor: (service: string) => all.filter((w) => w.subscriptions.includes(service)).map((w) => w.url),
    remove(id: string): WireWebhook | undefined {
      const at = all.findIndex((w) => w.id === id)
      return at < 0 ? undefined : all.splice(at, 1)[0]
    },
  }
}

export type WebhookSubscriptions = ReturnType<typeof webhookSubscriptions>

/**
 * The workspace balance as `/v2/balance` sends it: the opening amount, plus what paid invoices
 * credited (net of their fee), less every transfer not failed and its fee.
 */
export function wireBalance(
  workspaceId: string,
  openingCents: number,
  state: { invoices: WireInvoice[]; transfers: WireTransfer[] },
  now: number,
) {
  const credited = state.invoices
    .filter((i) => i.status === 'paid')
    .reduce((sum, i) => sum + i.amount - i.fee, 0)
  const sent = state.transfers
    .filter((t) => t.status !== 'failed')
    .reduce((sum, t) => sum + t.amount + t.fee, 0)
  return { id: workspaceId, amount: openingCents + credited - sent, currency: 'BRL', updated: starkTime(now) }
}

/** The Stark Bank services paybridge needs events of: paid invoices and transfer updates. */
export const PAYBRIDGE_SUBSCRIPTIONS: readonly string[] = ['invoice', 'transfer']

/** Where paybridge's web role takes Stark Bank's webhooks, under its public URL. */
export const STARK_WEBHOOK_PATH = '/webhook/starkbank'

export interface Subscription {
  id: string
  url: string
  subscriptions: string[]
}

/** What the workspace's subscriptions give paybridge at one URL. */
export type SubscriptionState =
  /** Every service paybridge needs reaches the URL (one subscription or several together). */
  | { kind: 'complete'; at: Subscription[] }
  | { kind: 'incomplete'; at: Subscription[]; missing: string[] }
  /** None at the URL; `elsewhere` lists the URLs subscriptions do point at. */
  | { kind: 'missing'; elsewhere: string[] }

/** `${publicUrl}/webhook/starkbank`, the public URL's own path kept in front. */
export function webhookUrlFor(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${STARK_WEBHOOK_PATH}`
}

/** Equal as URLs: scheme and host case, a default port and an empty path do not matter. */
export function sameUrl(a: string, b: string): boolean {
  const canonical = (u: string) => (URL.canParse(u) ? new URL(u).href.replace(/\/+$/, '') : u)
  return canonical(a) === canonical(b)
}

export function subscriptionState(webhooks: Subscription[], url: string): SubscriptionState {
  const at = webhooks.filter((w) => sameUrl(w.url, url))
  if (at.length === 0) return { kind: 'missing', elsewhere: [...new Set(webhooks.map((w) => w.url))] }
  const covered = new Set(at.flatMap((w) => w.subscriptions))
  const missing = PAYBRIDGE_SUBSCRIPTIONS.filter((s) => !covered.has(s))
  return missing.length === 0 ? { kind: 'complete', at } : { kind: 'incomplete', at, missing }
}

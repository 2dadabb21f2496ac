import type { Destination } from '../domain/transfer.ts'
/** What paybridge needs from Stark Bank, in its own words. Amounts are integer cents. */

export interface NewInvoice {
  amount: number
  name: string
  taxId: string
  /** Lower-case: Stark Bank lower-cases tags. */
  tags: string[]
}

export interface BankInvoice {
  id: string
  amount: number
  fee: number
  status: string
  tags: string[]
}

/** A transfer to send: the destination's account plus what makes it this invoice's payout. */
export interface NewTransfer extends Destination {
  amount: number
  /** Unique at Stark Bank: a second transfer with the same externalId is refused. */
  externalId: string
  tags: string[]
}

export interface BankTransfer {
  id: string
  amount: number
  status: string
  externalId: string
  tags: string[]
}

/** One entry of Stark Bank's `{"errors":[{code,message}]}`. */
export interface BankErrorDetail {
  code: string
  message: string
}

/**
 * Failures of a Stark Bank call. `transient` (timeout, network, 5xx, 408, 425, 429) may have reached
 * the bank: callers must look the outcome up before treating it as not done. `rejected` is a 4xx
 * carrying Stark Bank's error list (its reasons, in `details`). `blocked` is any other 4xx (a proxy's
 * or firewall's page, a status Stark Bank answers without its list): it says nothing about the request
 * itself, and every call is likely to get the same. `retryAfterMs` is set when told when to come back.
 */
export class BankError extends Error {
  override name = 'BankError'
  constructor(
    readonly kind: 'transient' | 'rejected' | 'blocked',
    message: string,
    readonly details: BankErrorDetail[] = [],
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message)
  }
}

export interface BankEventPage {
  /** Each event as Stark Bank's API returns it (the `event` object of a webhook body). */
  events: { id: string; raw: unknown }[]
  cursor: string | null
}

/** A webhook subscription: Stark Bank POSTs the events of each of `subscriptions` to `url`. */
export interface BankWebhook {
  id: string
  url: string
  /** Services, e.g. `invoice`, `transfer`. */
  subscriptions: string[]
}

export interface Bank {
  createInvoices(invoices: NewInvoice[]): Promise<BankInvoice[]>
  /** Invoices carrying every one of `tags`. */
  findInvoices(tags: string[]): Promise<BankInvoice[]>
  /** At most 100 at a time. */
  createTransfers(transfers: NewTransfer[]): Promise<BankTransfer[]>
  findTransfers(tags: string[]): Promise<BankTransfer[]>
  /** Stark Bank's current public key (PEM) for webhook signatures. */
  publicKey(): Promise<string>
  /** One page of events Stark Bank has not delivered to a webhook (it gives up after 3 retries). */
  undeliveredEvents(cursor: string | null): Promise<BankEventPage>
  markEventDelivered(id: string): Promise<void>
  /** Every webhook subscription of the workspace. */
  webhooks(): Promise<BankWebhook[]>
  registerWebhook(url: string, subscriptions: string[]): Promise<BankWebhook>
  removeWebhook(id: string): Promise<void>
  /** The workspace's balance, in cents. */
  balance(): Promise<{ amount: number; currency: string }>
  /** Stark Bank's clock (`at`, ms) against ours halfway through the round trip (`localAt`). */
  serverTime(): Promise<{ at: number; localAt: number; roundTripMs: number }>
}

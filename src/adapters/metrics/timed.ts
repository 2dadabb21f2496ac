import { type Bank, BankError } from '../../ports/bank.ts'
import type { CallOutcome, Metrics } from '../../ports/metrics.ts'

/** What a failed Stark Bank call looked like: its HTTP status, or why there was none. */
function bankOutcome(err: unknown): CallOutcome {
  if (err instanceof BankError) {
    if (err.status !== undefined) return err.status
    if (err.kind === 'rejected') return 400
    return /time.?out/i.test(err.message) ? 'timeout' : 'network'
  }
  return 'network'
}

/**
 * The Bank with every call timed into `metrics.bankCall`, labelled by method and status class.
 * Behaviour is unchanged: results and errors pass through as they are.
 */
export function timedBank(
  bank: Bank,
  metrics: Pick<Metrics, 'bankCall'>,
  now: () => number = performance.now,
): Bank {
  const timed =
    <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = now()
      try {
        const result = await call(...args)
        metrics.bankCall(operation, 200, (now() - started) / 1000)
        return result
      } catch (err) {
        metrics.bankCall(operation, bankOutcome(err), (now() - started) / 1000)
        throw err
      }
    }
  return {
    createInvoices: timed('create_invoices', (i) => bank.createInvoices(i)),
    findInvoices: timed('find_invoices', (t) => bank.findInvoices(t)),
    createTransfers: timed('create_transfers', (t) => bank.createTransfers(t)),
    findTransfers: timed('find_transfers', (t) => bank.findTransfers(t)),
    publicKey: timed('public_key', () => bank.publicKey()),
    undeliveredEvents: timed('undelivered_events', (c) => bank.undeliveredEvents(c)),
    markEventDelivered: timed('mark_event_delivered', (id) => bank.markEventDelivered(id)),
    webhooks: timed('list_webhooks', () => bank.webhooks()),
    registerWebhook: timed('create_webhook', (url, subscriptions) =>
      bank.registerWebhook(url, subscriptions),
    ),
    removeWebhook: timed('delete_webhook', (id) => bank.removeWebhook(id)),
    balance: timed('balance', () => bank.balance()),
    serverTime: timed('server_time', () => bank.serverTime()),
  }
}

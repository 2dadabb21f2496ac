import type { Clock } from '../ports/clock.ts'
import type { ForwardStore } from '../ports/forward-store.ts'
import type { Log } from '../ports/log.ts'
import type { QueueMessage } from '../ports/queue.ts'
import type { HandleResult } from './record-bank-event.ts'
import { parseStripeMessage } from './stripe-message-schema.ts'

/**
 * The consumer's step for one Stripe queue message: parse it (raw event, EventBridge envelope or SNS
 * notification) and record the event with its forward and outbox row in one transaction. The message
 * may be acked once this returns; a repeated Stripe event id is acked and forwarded no second time.
 * `recorded` runs after the commit (to wake the relay).
 */
export function forwardStripeEvent(deps: {
  store: Pick<ForwardStore, 'recordStripeEvent'>
  clock: Clock
  log: Log
  recorded?: () => void
}) {
  return async (body: string, message?: QueueMessage): Promise<HandleResult> => {
    const parsed = parseStripeMessage(body)
    if (!parsed.ok) return { kind: 'dead', reason: parsed.reason }
    const { event } = parsed
    const result = await deps.store.recordStripeEvent(event, body, deps.clock())
    const ids = { eventId: event.id, type: event.type, shape: event.shape, messageId: message?.id }
    if (result.kind === 'duplicate') {
      deps.log.info('Stripe event already recorded; not forwarded again', ids)
      return { kind: 'done', note: 'duplicate' }
    }
    deps.log.info('Stripe event recorded; forward queued', ids)
    deps.recorded?.()
    return { kind: 'done', note: 'recorded' }
  }
}

/** The same step for a whole receive: every event recorded in one transaction, results in order. */
export function forwardStripeEvents(deps: {
  store: Pick<ForwardStore, 'recordStripeEvents'>
  clock: Clock
  log: Log
  recorded?: () => void
}) {
  return async (bodies: string[]): Promise<HandleResult[]> => {
    const parsed = bodies.map((body) => ({ body, parsed: parseStripeMessage(body) }))
    const items = parsed.flatMap(({ body, parsed: p }) => (p.ok ? [{ event: p.event, payload: body }] : []))
    const results = items.length > 0 ? await deps.store.recordStripeEvents(items, deps.clock()) : []
    let next = 0
    let anyRecorded = false
    const outcomes = parsed.map(({ parsed: p }): HandleResult => {
      if (!p.ok) return { kind: 'dead', reason: p.reason }
      const result = results[next++]
      if (!result) throw new Error('the ledger answered fewer events than it was given')
      const ids = { eventId: p.event.id, type: p.event.type, shape: p.event.shape }
      if (result.kind === 'duplicate') {
        deps.log.info('Stripe event already recorded; not forwarded again', ids)
        return { kind: 'done', note: 'duplicate' }
      }
      anyRecorded = true
      deps.log.info('Stripe event recorded; forward queued', ids)
      return { kind: 'done', note: 'recorded' }
    })
    if (anyRecorded) deps.recorded?.()
    return outcomes
  }
}

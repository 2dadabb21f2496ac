import { decideBankEvent } from '../domain/bank-event.ts'
import { type Destination, planTransfer } from '../domain/transfer.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { Store } from '../ports/store.ts'
import { parseBankEvent } from './bank-event-schema.ts'

/** What a queue message handler concludes; the consumer acks, dead-letters or retries accordingly. */
export type HandleResult = { kind: 'done'; note: string } | { kind: 'dead'; reason: string }

/**
 * The worker's step for one Stark Bank event: parse, decide, and record it (inbox + invoice + transfer
 * + outbox) in one transaction. The message may be acked once this returns.
 */
export function recordBankEvent(deps: {
  store: Store
  destination: Destination
  clock: Clock
  log: Log
  metrics?: Pick<Metrics, 'webhook'> | undefined
}) {
  return async (body: string): Promise<HandleResult> => {
    const parsed = parseBankEvent(body)
    if (!parsed.ok) return { kind: 'dead', reason: parsed.reason }
    const { event } = parsed
    const decision = decideBankEvent(event)
    const transfer =
      decision.kind === 'credit'
        ? planTransfer(decision.invoiceId, decision.credited, deps.destination)
        : undefined
    const result = await deps.store.recordBankEvent(
      { event, payload: body, decision, ...(transfer ? { transfer } : {}) },
      deps.clock(),
    )
    const ids = { eventId: event.id, invoiceId: event.log.invoice?.id, transferId: transfer?.externalId }
    if (result.kind === 'duplicate') {
      // Only the worker can tell a repeated delivery: the webhook answers 200 before the inbox sees it.
      deps.metrics?.webhook('duplicate')
      deps.log.info('event already recorded; nothing to do', ids)
      return { kind: 'done', note: 'duplicate' }
    }
    switch (decision.kind) {
      case 'credit':
        deps.log.info('invoice credited; transfer queued', {
          ...ids,
          amount: decision.amount,
          fee: decision.fee,
          credited: decision.credited,
        })
        break
      case 'no-transfer':
        deps.log.warn('invoice credited with nothing to transfer', { ...ids, reason: decision.reason })
        break
      case 'transfer-update':
        deps.log.info('transfer status recorded', {
          eventId: event.id,
          bankTransferId: decision.transferId,
          status: decision.status,
        })
        break
      case 'ignore':
        deps.log.info('event recorded; no action', { eventId: event.id, reason: decision.reason })
        break
    }
    return { kind: 'done', note: decision.kind }
  }
}

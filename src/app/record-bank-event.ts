import { decideBankEvent, type PayoutScope } from '../domain/bank-event.ts'
import { type Destination, planTransfer } from '../domain/transfer.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { RecordedEvent, Store } from '../ports/store.ts'
import { parseBankEvent } from './bank-event-schema.ts'

/** What a queue message handler concludes; the consumer acks, dead-letters or retries accordingly. */
export type HandleResult = { kind: 'done'; note: string } | { kind: 'dead'; reason: string }

type RecordInput = Parameters<Store['recordBankEvent']>[0]
type Prepared = { input: RecordInput; dead?: undefined } | { input?: undefined; dead: string }

type RecorderDeps = {
  store: Store
  destination: Destination
  /** Which credited invoices are paid out (PAYOUT_SCOPE). */
  payoutScope: PayoutScope
  clock: Clock
  log: Log
  metrics?: Pick<Metrics, 'webhook'> | undefined
}

/**
 * The worker's step for Stark Bank events: parse, decide, and record each (inbox + invoice +
 * transfer + outbox), all of one call in one transaction. The messages may be acked once this returns.
 */
export function recordBankEvents(deps: RecorderDeps) {
  return async (bodies: string[]): Promise<HandleResult[]> => {
    const prepared = bodies.map((body): Prepared => {
      const parsed = parseBankEvent(body)
      if (!parsed.ok) return { dead: parsed.reason }
      const { event } = parsed
      const decision = decideBankEvent(event, deps.payoutScope)
      const transfer =
        decision.kind === 'credit'
          ? planTransfer(decision.invoiceId, decision.credited, deps.destination)
          : undefined
      return { input: { event, payload: body, decision, ...(transfer ? { transfer } : {}) } }
    })
    const inputs = prepared.flatMap((p) => (p.input ? [p.input] : []))
    const recorded = inputs.length > 0 ? await deps.store.recordBankEvents(inputs, deps.clock()) : []
    let next = 0
    return prepared.map((p): HandleResult => {
      if (!p.input) return { kind: 'dead', reason: p.dead }
      const result = recorded[next++]
      if (!result) throw new Error('the ledger answered fewer events than it was given')
      return report(deps, p.input, result)
    })
  }
}

/** The same step for one event. */
export function recordBankEvent(deps: RecorderDeps) {
  const many = recordBankEvents(deps)
  return async (body: string): Promise<HandleResult> => {
    const [result] = await many([body])
    if (!result) throw new Error('no result for the event')
    return result
  }
}

function report(
  deps: RecorderDeps,
  { event, decision, transfer }: RecordInput,
  result: RecordedEvent,
): HandleResult {
  const ids = { eventId: event.id, invoiceId: event.log.invoice?.id, transferId: transfer?.externalId }
  if (result.kind === 'duplicate') {
    // Only the worker can tell a repeated delivery: the webhook answers 200 before the inbox sees it.
    deps.metrics?.webhook('duplicate')
    deps.log.info('event already recorded; nothing to do', ids)
    return { kind: 'done', note: 'duplicate' }
  }
  const { outcome } = result
  switch (result.effect) {
    case 'transfer-planned':
      if (decision.kind === 'credit')
        deps.log.info('invoice credited; transfer queued', {
          ...ids,
          amountCents: decision.amount,
          feeCents: decision.fee,
          creditedCents: decision.credited,
        })
      break
    case 'not-paid':
      deps.log.warn('invoice credited; nothing paid out', { ...ids, reason: outcome })
      break
    case 'anomaly':
      deps.log.warn('event recorded as an anomaly; nothing changed', { ...ids, reason: outcome })
      break
    case 'unmatched':
      deps.log.info('transfer event kept until its transfer is created', {
        eventId: event.id,
        bankTransferId: event.log.transfer?.id,
        reason: outcome,
      })
      break
    case 'status':
      deps.log.info('transfer status recorded', {
        eventId: event.id,
        bankTransferId: event.log.transfer?.id,
        outcome,
      })
      break
    case 'nothing':
      deps.log.info('event recorded; no action', { eventId: event.id, reason: outcome })
      break
  }
  return { kind: 'done', note: result.effect === 'transfer-planned' ? 'credit' : result.effect }
}

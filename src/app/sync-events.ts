import type { PayoutScope } from '../domain/bank-event.ts'
import type { Destination } from '../domain/transfer.ts'
import type { Bank } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Store } from '../ports/store.ts'
import { type GapReport, gapFiller } from './fill-gaps.ts'
import { recordBankEvent } from './record-bank-event.ts'

/**
 * `events sync`, once: records the events Stark Bank could not deliver by webhook through the worker's
 * own step (the inbox deduplicates against webhooks that did arrive). Transfers it plans are sent by
 * the running paybridge's relay, not here.
 */
export async function syncEvents(deps: {
  bank: Bank
  store: Store
  destination: Destination
  payoutScope: PayoutScope
  clock: Clock
  log: Log
}): Promise<GapReport> {
  const { bank, store, clock, log } = deps
  const record = recordBankEvent({
    store,
    destination: deps.destination,
    payoutScope: deps.payoutScope,
    clock,
    log,
  })
  const report = await gapFiller({ bank, store, record, clock, log }).fillOnce()
  log.info('events sync done; the running paybridge relays any new transfers', { ...report })
  return report
}

import type { EmulatorLedger } from './ledger.ts'
import type { TimerSet } from './timers.ts'
import type { TransferStatus, WireEvent, WireTransfer } from './wire.ts'

/**
 * How created transfers move on at the bank, each step a signed `transfer` webhook:
 * created → processing → success, or → failed for a share of them.
 */
export interface TransferEventOptions {
  /** After creation, when the transfer goes `processing`; default 200 ms. */
  processingAfterMs?: number
  /** After creation, when it ends `success` or `failed`; default 600 ms. */
  settledAfterMs?: number
  /** Share of transfers that end `failed`, 0..1; default 0. */
  failShare?: number
  /**
   * Deliveries are delayed by up to this many ms each, independently: a later status can then arrive
   * before an earlier one (out of order). Default 0 (in order).
   */
  reorderMs?: number
  /** Share of deliveries sent twice, 0..1; default 0. */
  duplicateShare?: number
}

export function transferLifecycle(deps: {
  options: TransferEventOptions
  ledger: EmulatorLedger
  timers: TimerSet
  random: () => number
  send: (event: WireEvent) => void
}) {
  const { options, ledger, timers, random } = deps
  const processingAfter = options.processingAfterMs ?? 200
  const settledAfter = Math.max(processingAfter, options.settledAfterMs ?? 600)

  function deliver(event: WireEvent) {
    const times = random() < (options.duplicateShare ?? 0) ? 2 : 1
    for (let i = 0; i < times; i++) {
      const delay = Math.floor(random() * (options.reorderMs ?? 0))
      if (delay === 0) deps.send(event)
      else timers.later(delay, () => deps.send(event))
    }
  }

  function step(id: string, status: TransferStatus) {
    const event = ledger.setTransferStatus(id, status)
    if (event) deliver(event)
  }

  return {
    /** Schedules the status changes (and their webhooks) of transfers just created. */
    started(transfers: WireTransfer[]) {
      for (const transfer of transfers) {
        const final: TransferStatus = random() < (options.failShare ?? 0) ? 'failed' : 'success'
        step(transfer.id, 'created')
        timers.later(processingAfter, () => step(transfer.id, 'processing'))
        timers.later(settledAfter, () => step(transfer.id, final))
      }
    },
  }
}

import type { Clock } from '../ports/clock.ts'
import type { ForwardStore } from '../ports/forward-store.ts'
import type { Log } from '../ports/log.ts'
import type { Queue } from '../ports/queue.ts'
import type { Store } from '../ports/store.ts'
import { replayDeadLetter } from './replay-dead-letter.ts'

export type ReplayResult = { ok: boolean; message: string }

/**
 * Puts dead items back on their way, for the admin surface's replay buttons, on either ledger:
 * - `transfer <id>`: a dead transfer back to pending with a fresh retry count (`Store.replayDeadTransfers`). Safe
 *   to repeat: its externalId is unchanged, so Stark Bank refuses a second one and the relay then
 *   finds the first by lookup.
 * - `transfers dead`: every dead transfer, the same way (`ledger transfers replay --dead`).
 * - `forward <evt_…>`: a dead Stripe forward back in the outbox with a fresh retry window.
 * - `dead-letter <row id>`: the message's body sent again on the queue it died on (named in
 *   `queues`), then the row removed (`replayDeadLetter`). The inbox keys events by id, so a message
 *   that did get recorded once changes nothing the second time.
 * Each ledger change is one Store step; the queue send happens before the row goes, so a failed send
 * loses nothing.
 */
export function replayDeadItem(deps: {
  store: Pick<Store, 'replayDeadTransfers' | 'deadLetterById' | 'removeDeadLetter'>
  forwards: Pick<ForwardStore, 'replayForwards'>
  queues: Record<string, Queue>
  clock: Clock
  log: Log
}) {
  const { clock, log } = deps
  const letter = replayDeadLetter(deps)

  return async (kind: string, id: string): Promise<ReplayResult> => {
    const now = clock()
    switch (kind) {
      case 'transfer': {
        const revived = await deps.store.replayDeadTransfers({ transferId: id }, now, { dryRun: false })
        if (revived.length === 0) return { ok: false, message: `no dead transfer ${id}` }
        log.info('transfer replayed', { transferId: id })
        return { ok: true, message: `transfer ${id} is back in the outbox` }
      }
      case 'transfers': {
        if (id !== 'dead') return { ok: false, message: 'only dead transfers can be replayed together' }
        const revived = await deps.store.replayDeadTransfers({}, now, { dryRun: false })
        if (revived.length === 0) return { ok: false, message: 'no dead transfers' }
        log.info('dead transfers replayed', { count: revived.length })
        return { ok: true, message: `${revived.length} dead transfer(s) back in the outbox` }
      }
      case 'forward': {
        const entries = await deps.forwards.replayForwards({ eventId: id, dead: true }, now, {
          dryRun: false,
        })
        if (entries.length === 0) return { ok: false, message: `no dead forward ${id}` }
        log.info('forward replayed', { eventId: id, was: 'dead', action: 'requeue' })
        return { ok: true, message: `forward ${id} is back in the outbox` }
      }
      case 'dead-letter':
        return letter(Number(id))
      default:
        return { ok: false, message: `cannot replay a ${kind}` }
    }
  }
}

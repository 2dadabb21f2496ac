import type { Clock } from '../../ports/clock.ts'
import type { Log } from '../../ports/log.ts'
import type { Queue } from '../../ports/queue.ts'
import type { Ledger } from './database.ts'
import { sqliteForwardStore } from './forward-store.ts'

export type ReplayResult = { ok: boolean; message: string }

/**
 * Puts dead items back on their way, for the admin surface's replay buttons:
 * - `transfer <id>`: a dead transfer back to pending with a fresh outbox row (attempts from 0). Safe
 *   to repeat: its externalId is unchanged, so Stark Bank refuses a second one and the relay then
 *   finds the first by lookup.
 * - `forward <evt_…>`: a dead Stripe forward back in the outbox with a fresh retry window.
 * - `dead-letter <row id>`: the message's body sent again on the queue it died on (named in
 *   `queues`), then the row removed. The inbox keys events by id, so a message that did get
 *   recorded once changes nothing the second time.
 * Each ledger change is one synchronous transaction; the queue send happens before the row goes,
 * so a failed send loses nothing.
 */
export function ledgerReplay(deps: {
  ledger: Ledger
  queues: Record<string, Queue>
  clock: Clock
  log: Log
}) {
  const { ledger, clock, log } = deps
  const { sqlite } = ledger

  const reviveTransfer = sqlite.transaction((id: string, now: number): boolean => {
    const revived = sqlite
      .query(
        `UPDATE transfers SET status = 'pending', reason = NULL, updated_at = ?
         WHERE id = ? AND status = 'dead' RETURNING id`,
      )
      .all(now, id)
    if (revived.length === 0) return false
    sqlite.run(
      `INSERT INTO outbox (id, kind, ref_id, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, 'transfer', ?, 'pending', 0, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at,
         lease_until = NULL, last_error = NULL, updated_at = excluded.updated_at`,
      [`transfer:${id}`, id, now, now, now],
    )
    return true
  })

  async function replay(kind: string, id: string): Promise<ReplayResult> {
    const now = clock()
    switch (kind) {
      case 'transfer': {
        if (!reviveTransfer.immediate(id, now)) return { ok: false, message: `no dead transfer ${id}` }
        log.info('transfer replayed', { transferId: id })
        return { ok: true, message: `transfer ${id} is back in the outbox` }
      }
      case 'forward': {
        const entries = await sqliteForwardStore(ledger).replayForwards({ eventId: id, dead: true }, now, {
          dryRun: false,
        })
        if (entries.length === 0) return { ok: false, message: `no dead forward ${id}` }
        log.info('forward replayed', { eventId: id, was: 'dead', action: 'requeue' })
        return { ok: true, message: `forward ${id} is back in the outbox` }
      }
      case 'dead-letter': {
        const row = sqlite
          .query('SELECT queue, message_id, body FROM dead_letters WHERE id = ?')
          .get(Number(id)) as {
          queue: string
          message_id: string
          body: string
        } | null
        if (!row) return { ok: false, message: `no dead letter ${id}` }
        const queue = deps.queues[row.queue]
        if (!queue) return { ok: false, message: `queue ${row.queue} is not served by this paybridge` }
        await queue.send([{ body: row.body }])
        sqlite.run('DELETE FROM dead_letters WHERE id = ?', [Number(id)])
        log.info('dead letter replayed', { queue: row.queue, messageId: row.message_id })
        return { ok: true, message: `message ${row.message_id} is back on ${row.queue}` }
      }
      default:
        return { ok: false, message: `cannot replay a ${kind}` }
    }
  }
  return replay
}

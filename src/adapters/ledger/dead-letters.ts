import type { DeadLetter } from '../../ports/store.ts'
import { clipped } from './outbox-claims.ts'

/** A `dead_letters` row as either engine's drizzle schema reads it, as the port's `DeadLetter`. */
export function deadLetterOf(row: DeadLetter & Record<string, unknown>): DeadLetter {
  return {
    id: row.id,
    queue: row.queue,
    messageId: row.messageId,
    body: row.body,
    reason: row.reason,
    receiveCount: row.receiveCount,
  }
}

/** The reason a message drained from an SQS dead-letter queue is kept with. */
export const sqsDeadLetterReason = (receives: number) => `dead-lettered by SQS after ${receives} receives`

/** A dead letter's row: its reason clipped (see clipped). */
export const deadLetterRow = (entry: Omit<DeadLetter, 'id'>, now: number) => ({
  ...entry,
  reason: clipped(entry.reason),
  createdAt: now,
})

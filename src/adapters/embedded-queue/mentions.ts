import type { LedgerRead } from '../ledger/read.ts'
import { CONTAINS } from '../ledger/views/trace.ts'
import type { QueuedMessage } from '../ledger/views/trace-steps.ts'

/** The embedded queue's messages that carry `needle` in their id or body, oldest first (for a trace). */
export async function queuedMentions(read: LedgerRead, needle: string): Promise<QueuedMessage[]> {
  const rows = await read.all<{
    id: string
    queue: string
    sent_at: number
    receive_count: number
    receipt: string | null
  }>(
    `SELECT id, queue, sent_at, receive_count, receipt FROM queue_messages
     WHERE id = ? OR ${CONTAINS('body')} ORDER BY sent_at, id`,
    [needle, needle],
  )
  return rows.map((q) => ({
    id: q.id,
    queue: q.queue,
    sentAt: q.sent_at,
    receives: q.receive_count,
    inFlight: Boolean(q.receipt),
  }))
}

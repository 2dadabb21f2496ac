import type { QueueDepth } from '../../ports/queue.ts'
import type { Ledger } from '../ledger/sqlite/database.ts'

/**
 * The embedded queues' depths (messages waiting or in flight, oldest send), for /metrics and the
 * status page. The queues' table lives in the SQLite ledger file, beside the ledger but not of it.
 */
export const embeddedQueueDepths = (ledger: Ledger) => (): QueueDepth[] =>
  ledger.sqlite
    .query(
      'SELECT queue, count(*) AS messages, min(sent_at) AS oldestSentAt FROM queue_messages GROUP BY queue',
    )
    .all() as QueueDepth[]

import type { OutgoingMessage, Queue, QueueMessage, ReceiveOptions } from '../../ports/queue.ts'
import { sqliteStep } from '../ledger/ledger-failure.ts'
import type { Ledger } from '../ledger/sqlite/database.ts'
import { groupCommit } from './group-commit.ts'
import { queueWakeUps } from './wake-ups.ts'

export interface SqliteQueueOptions {
  ledger: Ledger
  /** Queue name; several queues share the `queue_messages` table. */
  name: string
  /** How long a received message stays invisible before it is handed out again. */
  visibilityTimeoutMs?: number
  /** Deliveries before the message is moved to `dead_letters` instead of delivered again. */
  maxReceives?: number
  /** A second send with a seen dedupId within this window is dropped (SQS FIFO: 5 minutes). */
  dedupWindowMs?: number
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number
}

interface Row {
  seq: number
  id: string
  body: string
  group_id: string | null
  sent_at: number
  receive_count: number
}

const POLL_MS = 50

/**
 * The embedded Queue on the ledger's SQLite file, for running without SQS. At-least-once like SQS:
 * a received message is invisible for the visibility timeout and handed out again unless acked; a
 * message received `maxReceives` times is moved to `dead_letters` on its next turn. Messages with a
 * `groupId` behave like an SQS FIFO group: handed out in send order, one in flight at a time.
 *
 * Every step is one synchronous transaction (bun:sqlite commits an async callback at its first await).
 */
export function sqliteQueue({
  ledger,
  name,
  visibilityTimeoutMs = 30_000,
  maxReceives = 5,
  dedupWindowMs = 300_000,
  clock = Date.now,
}: SqliteQueueOptions): Queue {
  const { sqlite, wal } = ledger
  const { wake, nap } = queueWakeUps(ledger, name)

  // Dedup rows are only garbage once expired: a live row answers "seen", an expired one is taken
  // over by the new send. So the sweep of expired rows can be lazy and bounded (see `sweepDedup`).
  // A send is durable once its commit and the WAL sync after it are done (a webhook's 200 waits for
  // both); receives, acks and visibility changes are not synced: losing one to a power loss only
  // redelivers.
  const rememberDedup = sqlite.query(
    `INSERT INTO queue_dedup (queue, dedup_id, expires_at) VALUES ($queue, $dedupId, $expiresAt)
     ON CONFLICT (queue, dedup_id) DO UPDATE SET expires_at = excluded.expires_at
     WHERE queue_dedup.expires_at <= $now`,
  )
  // Rows are inserted in expiry order (one window per queue), so the oldest rowids expire first: look
  // at a bounded slice from the front instead of scanning the table (it has no expiry index).
  const sweepDedup = sqlite.query(
    `DELETE FROM queue_dedup WHERE rowid IN (
       SELECT r FROM (SELECT rowid AS r, queue AS q, expires_at AS e FROM queue_dedup ORDER BY rowid LIMIT $limit)
       WHERE q = $queue AND e <= $now
     )`,
  )
  const insert = sqlite.query(
    `INSERT INTO queue_messages (id, queue, body, group_id, sent_at, visible_at, receive_count)
     VALUES ($id, $queue, $body, $groupId, $now, $now, 0)`,
  )
  // rowid is the send order. Only the oldest message of a group may go out, and only when it is
  // visible: an in-flight (or delayed) head blocks its group like SQS FIFO. The table is walked in
  // rowid order (NOT INDEXED) and stops at $max, and the head check looks only at older rowids, so a
  // receive costs about (messages in flight or delayed ahead of the first visible ones), not the
  // whole backlog (the table has no group index).
  const candidates = sqlite.query<Row, { queue: string; now: number; max: number }>(
    `SELECT m.rowid AS seq, m.id, m.body, m.group_id, m.sent_at, m.receive_count
     FROM queue_messages AS m NOT INDEXED
     WHERE m.queue = $queue AND m.visible_at <= $now
       AND (m.group_id IS NULL OR NOT EXISTS (
         SELECT 1 FROM queue_messages AS older NOT INDEXED
         WHERE older.rowid < m.rowid AND older.queue = $queue AND older.group_id = m.group_id))
     ORDER BY m.rowid LIMIT $max`,
  )
  const claim = sqlite.query(
    `UPDATE queue_messages SET receive_count = receive_count + 1, receipt = $receipt, visible_at = $visibleAt
     WHERE rowid = $seq`,
  )
  const bury = sqlite.query(
    `INSERT INTO dead_letters (queue, message_id, body, reason, receive_count, created_at)
     VALUES ($queue, $id, $body, $reason, $receiveCount, $now)
     ON CONFLICT (queue, message_id) DO NOTHING`,
  )
  const removeSeq = sqlite.query('DELETE FROM queue_messages WHERE rowid = $seq')
  // A receipt is "<rowid>.<uuid>": the rowid finds the row without an index on `receipt`, the uuid
  // (stored in `receipt`) tells this delivery from a later one of the same message.
  const removeReceipt = sqlite.query(
    'DELETE FROM queue_messages WHERE rowid = $seq AND queue = $queue AND receipt = $receipt',
  )
  const delay = sqlite.query(
    'UPDATE queue_messages SET visible_at = $visibleAt WHERE rowid = $seq AND queue = $queue AND receipt = $receipt',
  )
  // Handing back takes this delivery off the count: it ended for a reason outside the message.
  const handBackOne = sqlite.query(
    `UPDATE queue_messages SET visible_at = $visibleAt, receive_count = max(receive_count - 1, 0)
     WHERE rowid = $seq AND queue = $queue AND receipt = $receipt`,
  )
  const rowidOf = (receipt: string): number => {
    const seq = Number(receipt.slice(0, receipt.indexOf('.')))
    return Number.isSafeInteger(seq) && seq > 0 ? seq : 0
  }

  const sendAll = sqlite.transaction((messages: OutgoingMessage[], now: number) => {
    // Sweep at least as many expired rows as this commit may add, so the table stays at one window.
    sweepDedup.run({ queue: name, now, limit: messages.length + 64 })
    for (const m of messages) {
      if (m.dedupId !== undefined) {
        const fresh = rememberDedup.run({
          queue: name,
          dedupId: m.dedupId,
          expiresAt: now + dedupWindowMs,
          now,
        })
        if (fresh.changes === 0) continue
      }
      // Time-ordered ids (UUIDv7): a send appends to the id index instead of dirtying a random page
      // of it, which cut the WAL frames a grouped commit writes by a third.
      insert.run({ id: Bun.randomUUIDv7(), queue: name, body: m.body, groupId: m.groupId ?? null, now })
    }
  })

  const claimUpTo = sqlite.transaction((max: number, now: number): QueueMessage[] => {
    const out: QueueMessage[] = []
    const taken = new Set<number>()
    // Burying a group's head uncovers the next message of that group: look again until nothing is buried.
    for (;;) {
      let buried = false
      for (const row of candidates.all({ queue: name, now, max: max - out.length + taken.size })) {
        if (taken.has(row.seq) || out.length >= max) continue
        if (row.receive_count >= maxReceives) {
          bury.run({
            queue: name,
            id: row.id,
            body: row.body,
            reason: `exceeded max receives (${maxReceives})`,
            receiveCount: row.receive_count,
            now,
          })
          removeSeq.run({ seq: row.seq })
          buried = true
          continue
        }
        const token = crypto.randomUUID()
        claim.run({ receipt: token, visibleAt: now + visibilityTimeoutMs, seq: row.seq })
        const receipt = `${row.seq}.${token}`
        taken.add(row.seq)
        out.push({
          id: row.id,
          body: row.body,
          receipt,
          receiveCount: row.receive_count + 1,
          sentAt: row.sent_at,
          ...(row.group_id === null ? {} : { groupId: row.group_id }),
        })
      }
      if (!buried || out.length >= max) return out
    }
  })

  const tokenOf = (receipt: string) => receipt.slice(receipt.indexOf('.') + 1)

  const ackAll = sqlite.transaction((receipts: string[]): string[] =>
    receipts.filter(
      (receipt) =>
        removeReceipt.run({ seq: rowidOf(receipt), queue: name, receipt: tokenOf(receipt) }).changes === 0,
    ),
  )

  const delayAll = sqlite.transaction((receipts: string[], visibleAt: number, uncount: boolean) => {
    const change = uncount ? handBackOne : delay
    for (const receipt of receipts) {
      change.run({ seq: rowidOf(receipt), queue: name, receipt: tokenOf(receipt), visibleAt })
    }
  })

  // A lock held by another process is waited out asynchronously (see `sqliteStep`), so webhooks
  // keep being answered: 200 once their commit is on disk, 503 when the lock outlasts the wait.
  const commits = groupCommit(
    (messages: OutgoingMessage[]) => {
      sendAll.immediate(messages, clock())
      wake()
    },
    { attempt: (commit) => sqliteStep(commit), sync: wal.sync },
  )

  return {
    name,
    kind: 'embedded',

    // Resolves only after the transaction holding these messages committed: concurrent sends share
    // one commit (see `groupCommit`), and all of them fail together if it fails.
    async send(messages) {
      if (messages.length === 0) return
      await commits.add(messages)
    },

    async receive({ max, waitMs, signal }: ReceiveOptions) {
      if (max <= 0) return []
      const deadline = Date.now() + waitMs
      for (;;) {
        if (signal?.aborted) return []
        const got = await sqliteStep(() => claimUpTo.immediate(max, clock()))
        if (got.length > 0) return got
        const left = deadline - Date.now()
        if (left <= 0) return []
        await nap(Math.min(POLL_MS, left), signal)
      }
    },

    async ack(messages) {
      if (messages.length === 0) return []
      return sqliteStep(() => ackAll.immediate(messages.map((m) => m.receipt)))
    },

    // A release or extend with a receipt that is no longer current (redelivered, acked or buried)
    // changes nothing: the message's newer delivery owns it, and a later ack reports the stale receipt.
    async release(messages, delayMs = 0) {
      if (messages.length === 0) return
      await sqliteStep(() =>
        delayAll.immediate(
          messages.map((m) => m.receipt),
          clock() + delayMs,
          false,
        ),
      )
      if (delayMs === 0) wake()
    },

    async handBack(messages) {
      if (messages.length === 0) return
      await sqliteStep(() =>
        delayAll.immediate(
          messages.map((m) => m.receipt),
          clock(),
          true,
        ),
      )
      wake()
    },

    async extend(message, visibilityMs) {
      await sqliteStep(() => delayAll.immediate([message.receipt], clock() + visibilityMs, false))
    },

    async ping() {
      sqlite.query('SELECT 1').get()
    },
  }
}

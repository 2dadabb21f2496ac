import { eq } from 'drizzle-orm'
import { replaysForward } from '../../../domain/forward.ts'
import type { StripeEvent } from '../../../domain/stripe-event.ts'
import type { ForwardStore } from '../../../ports/forward-store.ts'
import * as forwardWrites from '../forward-writes.ts'
import { guardSteps, sqliteStep } from '../ledger-failure.ts'
import { deadOutbox, doneOutbox, leasedOutbox, retriedOutbox } from '../outbox-claims.ts'
import { type Db, immediate, type Ledger } from './database.ts'
import { type HotStatements, hotStatements } from './hot-statements.ts'
import { dueOutbox } from './outbox-due.ts'
import { forwards, outbox } from './schema.ts'
import { sqliteStore } from './store.ts'

/**
 * The ForwardStore on bun:sqlite. Every step is one synchronous IMMEDIATE transaction (the methods
 * are async only to fit the port); what the steps write is ../forward-writes.ts.
 */
export function sqliteForwardStore(ledger: Ledger): ForwardStore {
  return guardSteps(sqliteForwardStoreSteps(ledger), sqliteStep)
}

function sqliteForwardStoreSteps(ledger: Ledger): ForwardStore {
  const { db } = ledger
  const st = hotStatements(db)
  const tx = immediate(db)
  const dueOutboxRows = dueOutbox(db)
  /** Writes a claim's outcome on the forward, if the claim still owns its outbox row. */
  const ended = (
    t: Db,
    id: string,
    attempt: number,
    outboxColumns: ReturnType<typeof deadOutbox | typeof retriedOutbox>,
    forwardColumns: ReturnType<typeof forwardWrites.deadForward | typeof forwardWrites.retriedForward>,
  ) => {
    const moved = t
      .update(outbox)
      .set(outboxColumns)
      .where(forwardWrites.ownedForward(outbox, id, attempt))
      .returning({ id: outbox.id })
      .all()
    if (moved.length > 0) t.update(forwards).set(forwardColumns).where(eq(forwards.id, id)).run()
  }

  return {
    deadLetter: sqliteStore(ledger).deadLetter,

    async recordStripeEvent(event, payload, now) {
      return tx(() => recordIn(st, event, payload, now))
    },

    async recordStripeEvents(items, now) {
      // One commit for a whole receive.
      return tx(() => items.map(({ event, payload }) => recordIn(st, event, payload, now)))
    },

    async claimForwards(limit, now, leaseMs) {
      if (limit <= 0) return []
      return tx(() => {
        const due = dueOutboxRows('forward', now, limit)
        const lease = leasedOutbox(outbox, now, leaseMs)
        const rows = due.flatMap((d) => {
          st.leaseOutbox.run({ ...lease, id: d.id })
          return st.attemptForward.all({ id: d.refId, now })
        })
        return forwardWrites.claimedForwards(due, rows, now)
      })
    },

    async forwardsDelivered(delivered, now) {
      if (delivered.length === 0) return
      tx(() => {
        for (const { id, statusCode, latencyMs } of delivered) {
          st.markForwardDelivered.run({ id, ...forwardWrites.deliveredForward(statusCode, latencyMs, now) })
          st.outboxDone.run({ id: forwardWrites.forwardOutboxId(id), ...doneOutbox(now) })
        }
      })
    },

    async forwardRetry(id, attempt, { statusCode, error, nextAttemptAt }, now) {
      tx((t) =>
        ended(
          t,
          id,
          attempt,
          retriedOutbox(error, nextAttemptAt, now),
          forwardWrites.retriedForward(statusCode, error, now),
        ),
      )
    },

    async forwardDead(id, attempt, { statusCode, error }, now) {
      tx((t) =>
        ended(t, id, attempt, deadOutbox(error, now), forwardWrites.deadForward(statusCode, error, now)),
      )
    },

    async replayForwards(filter, now, { dryRun }) {
      return tx((t) => {
        const q = forwardWrites.replayQuery(forwards, filter)
        const entries = forwardWrites.replayEntries(
          t
            .select(q.columns)
            .from(forwards)
            .where(q.where)
            .orderBy(...q.order)
            .all(),
          filter.force,
        )
        if (dryRun) return entries
        for (const e of entries.filter((e) => replaysForward(e.action))) {
          t.update(forwards).set(forwardWrites.requeuedForward(now)).where(eq(forwards.id, e.id)).run()
          const { row, set } = forwardWrites.requeuedForwardOutbox(outbox, e.id, now)
          t.insert(outbox).values(row).onConflictDoUpdate({ target: outbox.id, set }).run()
        }
        return entries
      })
    },
  }
}

/** One Stripe event's inbox row, forward and outbox row, inside the caller's transaction. */
function recordIn(st: HotStatements, event: StripeEvent, payload: string, now: number) {
  const rows = forwardWrites.stripeEventRows(event, payload, now)
  if (st.insertInbox.all(rows.inbox).length === 0) return { kind: 'duplicate' as const }
  st.insertForward.run(rows.forward)
  st.insertOutbox.run(rows.outbox)
  return { kind: 'recorded' as const }
}

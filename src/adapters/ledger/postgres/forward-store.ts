import { eq, inArray } from 'drizzle-orm'
import { replaysForward } from '../../../domain/forward.ts'
import type { StripeEvent } from '../../../domain/stripe-event.ts'
import type { ForwardStore } from '../../../ports/forward-store.ts'
import * as forwardWrites from '../forward-writes.ts'
import { guardSteps, postgresStep } from '../ledger-failure.ts'
import { deadOutbox, doneOutbox, retriedOutbox } from '../outbox-claims.ts'
import type { PgLedger, PgTx } from './database.ts'
import { leaseOutbox, lockDueOutbox } from './outbox-lease.ts'
import { events, forwards, outbox } from './schema.ts'
import { postgresStore } from './store.ts'

/**
 * The ForwardStore on PostgreSQL. Every step is one async transaction; relays in several processes
 * claim forwards with `FOR UPDATE SKIP LOCKED`, and an outcome is recorded only by the attempt that
 * still owns the forward (the attempt number fences it). What the steps write is ../forward-writes.ts.
 */
export function postgresForwardStore(ledger: PgLedger): ForwardStore {
  return guardSteps(postgresForwardStoreSteps(ledger), postgresStep)
}

function postgresForwardStoreSteps(ledger: PgLedger): ForwardStore {
  const { db } = ledger
  /** Writes a claim's outcome on the forward, if the claim still owns its outbox row. */
  const ended = (
    id: string,
    attempt: number,
    outboxColumns: ReturnType<typeof deadOutbox | typeof retriedOutbox>,
    forwardColumns: ReturnType<typeof forwardWrites.deadForward | typeof forwardWrites.retriedForward>,
  ) =>
    db.transaction(async (t) => {
      const moved = await t
        .update(outbox)
        .set(outboxColumns)
        .where(forwardWrites.ownedForward(outbox, id, attempt))
        .returning({ id: outbox.id })
      if (moved.length > 0) await t.update(forwards).set(forwardColumns).where(eq(forwards.id, id))
    })

  return {
    deadLetter: postgresStore(ledger).deadLetter,

    async recordStripeEvent(event, payload, now) {
      return db.transaction((t) => recordIn(t, event, payload, now))
    },

    async recordStripeEvents(items, now) {
      return db.transaction(async (t) => {
        const results: { kind: 'recorded' | 'duplicate' }[] = []
        for (const { event, payload } of items) results.push(await recordIn(t, event, payload, now))
        return results
      })
    },

    async claimForwards(limit, now, leaseMs) {
      if (limit <= 0) return []
      return db.transaction(async (t) => {
        const due = await lockDueOutbox(t, 'forward', now, limit)
        if (due.length === 0) return []
        await leaseOutbox(
          t,
          due.map((d) => d.id),
          now,
          leaseMs,
        )
        const rows = await t
          .update(forwards)
          .set(forwardWrites.attemptedForward(forwards, now))
          .where(
            inArray(
              forwards.id,
              due.map((d) => d.refId),
            ),
          )
          .returning({
            id: forwards.id,
            type: forwards.type,
            body: forwards.body,
            firstAttemptAt: forwards.firstAttemptAt,
          })
        return forwardWrites.claimedForwards(due, rows, now)
      })
    },

    async forwardsDelivered(delivered, now) {
      if (delivered.length === 0) return
      await db.transaction(async (t) => {
        // Each forward keeps its own status code and latency; the outbox rows all end alike.
        for (const { id, statusCode, latencyMs } of delivered) {
          await t
            .update(forwards)
            .set(forwardWrites.deliveredForward(statusCode, latencyMs, now))
            .where(eq(forwards.id, id))
        }
        await t
          .update(outbox)
          .set(doneOutbox(now))
          .where(
            inArray(
              outbox.id,
              delivered.map((d) => forwardWrites.forwardOutboxId(d.id)),
            ),
          )
      })
    },

    async forwardRetry(id, attempt, { statusCode, error, nextAttemptAt }, now) {
      await ended(
        id,
        attempt,
        retriedOutbox(error, nextAttemptAt, now),
        forwardWrites.retriedForward(statusCode, error, now),
      )
    },

    async forwardDead(id, attempt, { statusCode, error }, now) {
      await ended(id, attempt, deadOutbox(error, now), forwardWrites.deadForward(statusCode, error, now))
    },

    async replayForwards(filter, now, { dryRun }) {
      return db.transaction(async (t) => {
        const q = forwardWrites.replayQuery(forwards, filter)
        const query = t
          .select(q.columns)
          .from(forwards)
          .where(q.where)
          .orderBy(...q.order)
        // A real replay locks what it changes, so a relay recording an outcome meanwhile waits for it.
        const entries = forwardWrites.replayEntries(
          dryRun ? await query : await query.for('update'),
          filter.force,
        )
        if (dryRun) return entries
        for (const e of entries.filter((e) => replaysForward(e.action))) {
          await t.update(forwards).set(forwardWrites.requeuedForward(now)).where(eq(forwards.id, e.id))
          const { row, set } = forwardWrites.requeuedForwardOutbox(outbox, e.id, now)
          await t.insert(outbox).values(row).onConflictDoUpdate({ target: outbox.id, set })
        }
        return entries
      })
    },
  }
}

/** One Stripe event's inbox row, forward and outbox row, inside the caller's transaction. */
async function recordIn(t: PgTx, event: StripeEvent, payload: string, now: number) {
  const rows = forwardWrites.stripeEventRows(event, payload, now)
  const inserted = await t
    .insert(events)
    .values(rows.inbox)
    .onConflictDoNothing()
    .returning({ id: events.id })
  if (inserted.length === 0) return { kind: 'duplicate' as const }
  await t.insert(forwards).values(rows.forward).onConflictDoNothing()
  await t.insert(outbox).values(rows.outbox).onConflictDoNothing()
  return { kind: 'recorded' as const }
}

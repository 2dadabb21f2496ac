import { and, asc, eq, gte, inArray, type SQL, sql } from 'drizzle-orm'
import { type StripeEvent, stripeSubscription } from '../../../domain/stripe-event.ts'
import type { ClaimedForward, ForwardStore, ReplayAction, ReplayEntry } from '../../../ports/forward-store.ts'
import { guardSteps, sqliteStep } from '../ledger-failure.ts'
import { nextClaim, replayedOutbox } from '../outbox-claims.ts'
import type { Ledger } from './database.ts'
import { type HotStatements, hotStatements } from './hot-statements.ts'
import { dueOutboxRows } from './outbox-due.ts'
import { forwards, outbox } from './schema.ts'
import { sqliteStore } from './store.ts'

/** Outbox rows have stable ids, so a forward's row is found (and never doubled) by its event id. */
const outboxId = (eventId: string) => `forward-${eventId}`
const clip = (text: string, max = 1000) => (text.length > max ? text.slice(0, max) : text)

/**
 * The ForwardStore on bun:sqlite. Every step is one synchronous IMMEDIATE transaction: nothing here
 * awaits (bun:sqlite commits an async callback at its first await; the methods are async only to fit
 * the port), and IMMEDIATE serialises writers across processes sharing the ledger file.
 */
export function sqliteForwardStore(ledger: Ledger): ForwardStore {
  return guardSteps(sqliteForwardStoreSteps(ledger), sqliteStep)
}

function sqliteForwardStoreSteps(ledger: Ledger): ForwardStore {
  const { db } = ledger
  const st = hotStatements(db)
  const tx = <T>(fn: (t: typeof db) => T): T =>
    db.transaction((t) => fn(t as unknown as typeof db), { behavior: 'immediate' })
  // A forward's outbox row, for the attempt that still owns it.
  const owned = (id: string, attempt: number) =>
    and(
      eq(outbox.id, outboxId(id)),
      eq(outbox.kind, 'forward'),
      eq(outbox.status, 'in_flight'),
      eq(outbox.attempts, attempt),
    )

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
      return tx((t) => {
        const due = dueOutboxRows(t, 'forward', now, limit)
        if (due.length === 0) return []
        const ids = due.map((d) => d.refId)
        t.update(outbox)
          .set({
            status: 'in_flight',
            leaseUntil: now + leaseMs,
            attempts: sql`${outbox.attempts} + 1`,
            updatedAt: now,
          })
          .where(inArray(outbox.id, ids.map(outboxId)))
          .run()
        const rows = t
          .update(forwards)
          .set({
            attempts: sql`${forwards.attempts} + 1`,
            firstAttemptAt: sql`coalesce(${forwards.firstAttemptAt}, ${now})`,
            updatedAt: now,
          })
          .where(inArray(forwards.id, ids))
          .returning({
            id: forwards.id,
            type: forwards.type,
            body: forwards.body,
            firstAttemptAt: forwards.firstAttemptAt,
          })
          .all()
        const byId = new Map(rows.map((r) => [r.id, r]))
        return due.map((d): ClaimedForward => {
          const row = byId.get(d.refId)
          if (!row) throw new Error(`outbox row ${outboxId(d.refId)} points at missing forward ${d.refId}`)
          return {
            id: row.id,
            type: row.type,
            body: row.body,
            ...nextClaim(d),
            firstAttemptAt: row.firstAttemptAt ?? now,
          }
        })
      })
    },

    async forwardDelivered(id, { statusCode, latencyMs }, now) {
      tx(() => {
        st.markForwardDelivered.run({ id, statusCode, latencyMs, now })
        st.outboxDone.run({ id: outboxId(id), now })
      })
    },

    async forwardRetry(id, attempt, { statusCode, error, nextAttemptAt }, now) {
      tx((t) => {
        const moved = t
          .update(outbox)
          .set({ status: 'pending', nextAttemptAt, leaseUntil: null, lastError: clip(error), updatedAt: now })
          .where(owned(id, attempt))
          .returning({ id: outbox.id })
          .all()
        if (moved.length === 0) return
        t.update(forwards)
          .set({ lastStatusCode: statusCode, lastError: clip(error), updatedAt: now })
          .where(eq(forwards.id, id))
          .run()
      })
    },

    async forwardDead(id, attempt, { statusCode, error }, now) {
      tx((t) => {
        const moved = t
          .update(outbox)
          .set({ status: 'dead', leaseUntil: null, lastError: clip(error), updatedAt: now })
          .where(owned(id, attempt))
          .returning({ id: outbox.id })
          .all()
        if (moved.length === 0) return
        t.update(forwards)
          .set({ status: 'dead', lastStatusCode: statusCode, lastError: clip(error), updatedAt: now })
          .where(eq(forwards.id, id))
          .run()
      })
    },

    async replayForwards(filter, now, { dryRun }) {
      return tx((t) => {
        const where: SQL[] = []
        if (filter.dead) where.push(eq(forwards.status, 'dead'))
        if (filter.since !== undefined) where.push(gte(forwards.createdAt, filter.since))
        if (filter.eventId !== undefined) where.push(eq(forwards.id, filter.eventId))
        const rows = t
          .select({
            id: forwards.id,
            type: forwards.type,
            status: forwards.status,
            attempts: forwards.attempts,
            lastError: forwards.lastError,
          })
          .from(forwards)
          .where(and(...where))
          .orderBy(asc(forwards.createdAt), asc(forwards.id))
          .all()
        const entries = rows.map((r): ReplayEntry => ({ ...r, action: actionFor(r.status, filter.force) }))
        if (dryRun) return entries
        for (const e of entries) {
          if (e.action !== 'requeue' && e.action !== 'resend') continue
          t.update(forwards)
            .set({ status: 'pending', attempts: 0, firstAttemptAt: null, updatedAt: now })
            .where(eq(forwards.id, e.id))
            .run()
          // The claim count goes on (it fences stale relays); only the retry count starts again.
          const requeued = replayedOutbox(outbox.attempts, now)
          t.insert(outbox)
            .values({
              ...requeued,
              id: outboxId(e.id),
              kind: 'forward',
              refId: e.id,
              createdAt: now,
              freeAttempts: 0,
            })
            .onConflictDoUpdate({ target: outbox.id, set: requeued })
            .run()
        }
        return entries
      })
    },
  }
}

function actionFor(status: 'pending' | 'delivered' | 'dead', force: boolean | undefined): ReplayAction {
  switch (status) {
    case 'dead':
      return 'requeue'
    case 'delivered':
      return force ? 'resend' : 'skip-delivered'
    case 'pending':
      return 'skip-pending'
  }
}

/** One Stripe event's inbox row, forward and outbox row, inside the caller's transaction. */
function recordIn(
  st: HotStatements,
  event: StripeEvent,
  payload: string,
  now: number,
): { kind: 'recorded' | 'duplicate' } {
  const inserted = st.insertEvent.all({
    id: event.id,
    source: 'stripe',
    subscription: stripeSubscription(event.type),
    type: event.type,
    subjectId: null,
    outcome: `forward queued (${event.shape})`,
    payload,
    now,
  })
  if (inserted.length === 0) return { kind: 'duplicate' as const }
  st.insertForward.run({ id: event.id, type: event.type, shape: event.shape, body: event.body, now })
  st.insertOutbox.run({ id: outboxId(event.id), kind: 'forward', refId: event.id, now })
  return { kind: 'recorded' as const }
}

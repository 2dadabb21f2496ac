import { and, asc, eq, gte, inArray, type SQL, sql } from 'drizzle-orm'
import { type StripeEvent, stripeSubscription } from '../../../domain/stripe-event.ts'
import type { ClaimedForward, ForwardStore, ReplayAction, ReplayEntry } from '../../../ports/forward-store.ts'
import { guardSteps, postgresStep } from '../ledger-failure.ts'
import { nextClaim, replayedOutbox } from '../outbox-claims.ts'
import type { PgLedger } from './database.ts'
import { leaseOutbox, lockDueOutbox } from './outbox-lease.ts'
import { events, forwards, outbox } from './schema.ts'
import { postgresStore } from './store.ts'

/** Outbox rows have stable ids, so a forward's row is found (and never doubled) by its event id. */
type Tx = Parameters<Parameters<PgLedger['db']['transaction']>[0]>[0]

const outboxId = (eventId: string) => `forward-${eventId}`
const clip = (text: string, max = 1000) => (text.length > max ? text.slice(0, max) : text)

/**
 * The ForwardStore on PostgreSQL. Every step is one async transaction; relays in several processes
 * claim forwards with `FOR UPDATE SKIP LOCKED`, and an outcome is recorded only by the attempt that
 * still owns the forward (the attempt number fences it).
 */
export function postgresForwardStore(ledger: PgLedger): ForwardStore {
  return guardSteps(postgresForwardStoreSteps(ledger), postgresStep)
}

function postgresForwardStoreSteps(ledger: PgLedger): ForwardStore {
  const { db } = ledger
  // A forward's outbox row, for the attempt that still owns it.
  const owned = (id: string, attempt: number) =>
    and(
      eq(outbox.id, outboxId(id)),
      eq(outbox.kind, 'forward'),
      eq(outbox.status, 'in_flight'),
      eq(outbox.attempts, attempt),
    )

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
          .set({
            attempts: sql`${forwards.attempts} + 1`,
            firstAttemptAt: sql`coalesce(${forwards.firstAttemptAt}, ${now})`,
            updatedAt: now,
          })
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
        const byId = new Map(rows.map((r) => [r.id, r]))
        return due.map((d): ClaimedForward => {
          const row = byId.get(d.refId)
          if (!row) throw new Error(`outbox row ${d.id} points at missing forward ${d.refId}`)
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
      await db.transaction(async (t) => {
        await t
          .update(forwards)
          .set({
            status: 'delivered',
            lastStatusCode: statusCode,
            lastError: null,
            latencyMs,
            deliveredAt: now,
            updatedAt: now,
          })
          .where(eq(forwards.id, id))
        await t
          .update(outbox)
          .set({ status: 'done', leaseUntil: null, lastError: null, updatedAt: now })
          .where(eq(outbox.id, outboxId(id)))
      })
    },

    async forwardRetry(id, attempt, { statusCode, error, nextAttemptAt }, now) {
      await db.transaction(async (t) => {
        const moved = await t
          .update(outbox)
          .set({ status: 'pending', nextAttemptAt, leaseUntil: null, lastError: clip(error), updatedAt: now })
          .where(owned(id, attempt))
          .returning({ id: outbox.id })
        if (moved.length === 0) return
        await t
          .update(forwards)
          .set({ lastStatusCode: statusCode, lastError: clip(error), updatedAt: now })
          .where(eq(forwards.id, id))
      })
    },

    async forwardDead(id, attempt, { statusCode, error }, now) {
      await db.transaction(async (t) => {
        const moved = await t
          .update(outbox)
          .set({ status: 'dead', leaseUntil: null, lastError: clip(error), updatedAt: now })
          .where(owned(id, attempt))
          .returning({ id: outbox.id })
        if (moved.length === 0) return
        await t
          .update(forwards)
          .set({ status: 'dead', lastStatusCode: statusCode, lastError: clip(error), updatedAt: now })
          .where(eq(forwards.id, id))
      })
    },

    async replayForwards(filter, now, { dryRun }) {
      return db.transaction(async (t) => {
        const where: SQL[] = []
        if (filter.dead) where.push(eq(forwards.status, 'dead'))
        if (filter.since !== undefined) where.push(gte(forwards.createdAt, filter.since))
        if (filter.eventId !== undefined) where.push(eq(forwards.id, filter.eventId))
        const query = t
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
        // A real replay locks what it changes, so a relay recording an outcome meanwhile waits for it.
        const rows = dryRun ? await query : await query.for('update')
        const entries = rows.map((r): ReplayEntry => ({ ...r, action: actionFor(r.status, filter.force) }))
        if (dryRun) return entries
        for (const e of entries) {
          if (e.action !== 'requeue' && e.action !== 'resend') continue
          await t
            .update(forwards)
            .set({ status: 'pending', attempts: 0, firstAttemptAt: null, updatedAt: now })
            .where(eq(forwards.id, e.id))
          // The claim count goes on (it fences stale relays); only the retry count starts again.
          const requeued = replayedOutbox(outbox.attempts, now)
          await t
            .insert(outbox)
            .values({
              ...requeued,
              id: outboxId(e.id),
              kind: 'forward',
              refId: e.id,
              createdAt: now,
              freeAttempts: 0,
            })
            .onConflictDoUpdate({ target: outbox.id, set: requeued })
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
async function recordIn(
  t: Tx,
  event: StripeEvent,
  payload: string,
  now: number,
): Promise<{ kind: 'recorded' | 'duplicate' }> {
  const inserted = await t
    .insert(events)
    .values({
      id: event.id,
      source: 'stripe',
      subscription: stripeSubscription(event.type),
      type: event.type,
      subjectId: null,
      outcome: `forward queued (${event.shape})`,
      payload,
      receivedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: events.id })
  if (inserted.length === 0) return { kind: 'duplicate' as const }
  await t
    .insert(forwards)
    .values({
      id: event.id,
      type: event.type,
      shape: event.shape,
      body: event.body,
      status: 'pending',
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
  await t
    .insert(outbox)
    .values({
      id: outboxId(event.id),
      kind: 'forward',
      refId: event.id,
      status: 'pending',
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
  return { kind: 'recorded' as const }
}

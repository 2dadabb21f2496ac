import { and, asc, type Column, eq, gte, sql } from 'drizzle-orm'
import { replayAction } from '../../domain/forward.ts'
import { type StripeEvent, stripeSubscription } from '../../domain/stripe-event.ts'
import type { ClaimedForward, ReplayEntry, ReplayFilter } from '../../ports/forward-store.ts'
import { columnsOf } from './columns.ts'
import {
  clipped,
  nextClaim,
  type OutboxColumns,
  ownedOutbox,
  pendingOutboxRow,
  replayedOutbox,
} from './outbox-claims.ts'

// What both ledgers write for a Stripe forward, once: the rows a recorded event adds, the columns each
// outcome writes, the replay's filter and requeue. The engines only run the statements.

/** Outbox rows have stable ids, so a forward's row is found (and never doubled) by its event id. */
export const forwardOutboxId = (eventId: string) => `forward-${eventId}`

/** The `forwards` columns both engines' tables have, for conditions and increments written once. */
export interface ForwardColumns {
  id: Column
  status: Column
  attempts: Column
  firstAttemptAt: Column
  createdAt: Column
}

/** The three rows a Stripe event writes together: its inbox row, its forward, the forward's outbox row. */
export function stripeEventRows(event: StripeEvent, payload: string, now: number) {
  return {
    inbox: {
      id: event.id,
      source: 'stripe' as const,
      subscription: stripeSubscription(event.type),
      type: event.type,
      subjectId: null,
      outcome: `forward queued (${event.shape})`,
      flag: null,
      refId: null,
      payload,
      receivedAt: now,
    },
    forward: {
      id: event.id,
      type: event.type,
      shape: event.shape,
      body: event.body,
      status: 'pending' as const,
      createdAt: now,
      updatedAt: now,
    },
    outbox: pendingOutboxRow(forwardOutboxId(event.id), 'forward', event.id, now),
  }
}

/** A forward's outbox row, for the attempt that still owns it. */
export const ownedForward = (outbox: OutboxColumns & { kind: Column }, id: string, attempt: number) =>
  and(ownedOutbox(outbox, forwardOutboxId(id), attempt), eq(outbox.kind, 'forward'))

/**
 * The columns a claim writes on each forward it leases: one attempt more, the retry window opened.
 * `now` may be a placeholder, for a statement prepared once.
 */
export const attemptedForward = (forwards: ForwardColumns, now: number) => ({
  attempts: sql<number>`${forwards.attempts} + 1`,
  firstAttemptAt: sql<number>`coalesce(${forwards.firstAttemptAt}, ${now})`,
  updatedAt: now,
})

/** The forwards a claim leased, in the outbox's claim order, each with its claim number. */
export function claimedForwards(
  due: { id: string; refId: string; attempts: number; freeAttempts: number }[],
  rows: { id: string; type: string; body: string; firstAttemptAt: number | null }[],
  now: number,
): ClaimedForward[] {
  const byId = new Map(rows.map((r) => [r.id, r]))
  return due.map((d) => {
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
}

/** The columns of a forward the downstream took. */
export const deliveredForward = (statusCode: number, latencyMs: number, now: number) => ({
  status: 'delivered' as const,
  lastStatusCode: statusCode,
  lastError: null,
  latencyMs,
  deliveredAt: now,
  updatedAt: now,
})

/** The columns of a failed attempt that is tried again. */
export const retriedForward = (statusCode: number | null, error: string, now: number) => ({
  lastStatusCode: statusCode,
  lastError: clipped(error),
  updatedAt: now,
})

/** The columns of a forward that failed for good. */
export const deadForward = (statusCode: number | null, error: string, now: number) => ({
  status: 'dead' as const,
  ...retriedForward(statusCode, error, now),
})

/** The forwards a replay concerns (the criteria combine), what it lists of them, and in which order. */
export function replayQuery<F extends ForwardColumns & { type: Column; lastError: Column }>(
  forwards: F,
  filter: ReplayFilter,
) {
  return {
    columns: columnsOf(forwards, 'id', 'type', 'status', 'attempts', 'lastError'),
    where: and(
      filter.dead ? eq(forwards.status, 'dead') : undefined,
      filter.since === undefined ? undefined : gte(forwards.createdAt, filter.since),
      filter.eventId === undefined ? undefined : eq(forwards.id, filter.eventId),
    ),
    order: [asc(forwards.createdAt), asc(forwards.id)],
  }
}

/** Every forward a replay found, with what it does to it. */
export const replayEntries = (
  rows: Omit<ReplayEntry, 'action'>[],
  force: boolean | undefined,
): ReplayEntry[] => rows.map((r) => ({ ...r, action: replayAction(r.status, force) }))

/** The columns of a forward put back in the outbox: a fresh retry window. */
export const requeuedForward = (now: number) => ({
  status: 'pending' as const,
  attempts: 0,
  firstAttemptAt: null,
  updatedAt: now,
})

/**
 * The outbox row of a requeued forward (inserted if gone) and the columns it takes if it is there.
 * The claim count goes on (it fences stale relays); only the retry count starts again.
 */
export function requeuedForwardOutbox(outbox: OutboxColumns, eventId: string, now: number) {
  const set = replayedOutbox(outbox.attempts, now)
  return {
    row: {
      ...set,
      id: forwardOutboxId(eventId),
      kind: 'forward' as const,
      refId: eventId,
      createdAt: now,
      freeAttempts: 0,
    },
    set,
  }
}

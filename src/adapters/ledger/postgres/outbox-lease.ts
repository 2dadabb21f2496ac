import { and, asc, eq, inArray, lte } from 'drizzle-orm'
import { leasedOutbox } from '../outbox-claims.ts'
import type { PgDb } from './database.ts'
import { outbox } from './schema.ts'

type Tx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

export interface LeasedRow {
  id: string
  refId: string
  attempts: number
  freeAttempts: number
  /** In flight with its lease run out: the claim before died or stalled, perhaps mid-call. */
  expired: boolean
}

/**
 * Locks the outbox rows of `kind` that are due: in-flight ones whose lease ran out (their relay died),
 * then pending ones whose time has come, oldest first. Rows another relay has locked are skipped, not
 * waited for, so no two claimers get one row. Two index searches rather than one `OR`, which would
 * read every finished row of the kind. Returns them in claim order, with their claims so far.
 */
export async function lockDueOutbox(
  t: Tx,
  kind: 'transfer' | 'forward',
  now: number,
  limit: number,
): Promise<LeasedRow[]> {
  const columns = {
    id: outbox.id,
    refId: outbox.refId,
    attempts: outbox.attempts,
    freeAttempts: outbox.freeAttempts,
  }
  const expired = await t
    .select(columns)
    .from(outbox)
    .where(and(eq(outbox.kind, kind), eq(outbox.status, 'in_flight'), lte(outbox.leaseUntil, now)))
    .limit(limit)
    .for('update', { skipLocked: true })
  const pending =
    expired.length >= limit
      ? []
      : await t
          .select(columns)
          .from(outbox)
          .where(and(eq(outbox.kind, kind), eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, now)))
          .orderBy(asc(outbox.nextAttemptAt))
          .limit(limit - expired.length)
          .for('update', { skipLocked: true })
  return [...expired.map((r) => ({ ...r, expired: true })), ...pending.map((r) => ({ ...r, expired: false }))]
}

/** Leases locked outbox rows for `leaseMs`, counting a claim on each; returns them in the given order. */
export async function leaseOutbox(
  t: Tx,
  ids: string[],
  now: number,
  leaseMs: number,
): Promise<Omit<LeasedRow, 'expired'>[]> {
  if (ids.length === 0) return []
  const leased = await t
    .update(outbox)
    .set(leasedOutbox(outbox, now, leaseMs))
    .where(inArray(outbox.id, ids))
    .returning({
      id: outbox.id,
      refId: outbox.refId,
      attempts: outbox.attempts,
      freeAttempts: outbox.freeAttempts,
    })
  const order = new Map(ids.map((id, i) => [id, i]))
  return leased.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
}

import { and, asc, eq, lte } from 'drizzle-orm'
import type { Ledger } from './database.ts'
import { outbox } from './schema.ts'

export interface DueOutboxRow {
  id: string
  refId: string
  attempts: number
  freeAttempts: number
  /** In flight with its lease run out: the claim before died or stalled, perhaps mid-call. */
  expired: boolean
}

/**
 * Outbox rows of `kind` due now: pending ones whose time has come, and in-flight ones whose lease ran
 * out (their relay died). Two index searches rather than one `OR`, which SQLite answers by scanning
 * every row of the kind, done ones included, so the claim slowed as the ledger aged.
 */
export function dueOutboxRows(
  t: Ledger['db'],
  kind: 'transfer' | 'forward',
  now: number,
  limit: number,
): DueOutboxRow[] {
  const columns = {
    id: outbox.id,
    refId: outbox.refId,
    attempts: outbox.attempts,
    freeAttempts: outbox.freeAttempts,
  }
  const expired = t
    .select(columns)
    .from(outbox)
    .where(and(eq(outbox.kind, kind), eq(outbox.status, 'in_flight'), lte(outbox.leaseUntil, now)))
    .limit(limit)
    .all()
  if (expired.length >= limit) return expired.map((r) => ({ ...r, expired: true }))
  const pending = t
    .select(columns)
    .from(outbox)
    .where(and(eq(outbox.kind, kind), eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, now)))
    .orderBy(asc(outbox.nextAttemptAt))
    .limit(limit - expired.length)
    .all()
  // Expired leases first: they have waited longest.
  return [...expired.map((r) => ({ ...r, expired: true })), ...pending.map((r) => ({ ...r, expired: false }))]
}

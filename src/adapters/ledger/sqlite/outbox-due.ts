import { and, asc, eq, lte, sql } from 'drizzle-orm'
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

const p = (name: string) => sql.placeholder(name) as never

/**
 * Outbox rows of a kind due now: pending ones whose time has come, and in-flight ones whose lease ran
 * out (their relay died). Two index searches rather than one `OR`, which SQLite answers by scanning
 * every row of the kind, done ones included, so the claim slowed as the ledger aged. Both are prepared
 * once: drizzle builds and prepares a query on every call, which cost more than the searches.
 * The statements run on the ledger's one connection, so inside the caller's transaction.
 */
export function dueOutbox(db: Ledger['db']) {
  const columns = {
    id: outbox.id,
    refId: outbox.refId,
    attempts: outbox.attempts,
    freeAttempts: outbox.freeAttempts,
  }
  const expired = db
    .select(columns)
    .from(outbox)
    .where(and(eq(outbox.kind, p('kind')), eq(outbox.status, 'in_flight'), lte(outbox.leaseUntil, p('now'))))
    .limit(p('limit'))
    .prepare()
  const pending = db
    .select(columns)
    .from(outbox)
    .where(and(eq(outbox.kind, p('kind')), eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, p('now'))))
    .orderBy(asc(outbox.nextAttemptAt))
    .limit(p('limit'))
    .prepare()

  return (kind: 'transfer' | 'forward', now: number, limit: number): DueOutboxRow[] => {
    const late = expired.all({ kind, now, limit })
    if (late.length >= limit) return late.map((r) => ({ ...r, expired: true }))
    const due = pending.all({ kind, now, limit: limit - late.length })
    // Expired leases first: they have waited longest.
    return [...late.map((r) => ({ ...r, expired: true })), ...due.map((r) => ({ ...r, expired: false }))]
  }
}

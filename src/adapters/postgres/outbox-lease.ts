import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm'
import type { PgDb } from './database.ts'
import { outbox } from './schema.ts'

type Tx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

/**
 * Leases outbox rows of `kind` that are due: in-flight ones whose lease ran out (their relay died),
 * then pending ones whose time has come, oldest first, counting an attempt on each. Rows another
 * relay has locked are skipped, not waited for, so no two claimers get one row. Two index searches
 * rather than one `OR`, which would read every finished row of the kind. Returns them in claim order.
 */
export async function leaseDueOutbox(
  t: Tx,
  kind: 'transfer' | 'forward',
  now: number,
  limit: number,
  leaseMs: number,
): Promise<{ id: string; refId: string; attempts: number }[]> {
  const expired = await t
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(eq(outbox.kind, kind), eq(outbox.status, 'in_flight'), lte(outbox.leaseUntil, now)))
    .limit(limit)
    .for('update', { skipLocked: true })
  const pending =
    expired.length >= limit
      ? []
      : await t
          .select({ id: outbox.id })
          .from(outbox)
          .where(and(eq(outbox.kind, kind), eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, now)))
          .orderBy(asc(outbox.nextAttemptAt))
          .limit(limit - expired.length)
          .for('update', { skipLocked: true })
  const due = [...expired, ...pending]
  if (due.length === 0) return []
  const leased = await t
    .update(outbox)
    .set({
      status: 'in_flight',
      leaseUntil: now + leaseMs,
      attempts: sql`${outbox.attempts} + 1`,
      updatedAt: now,
    })
    .where(
      inArray(
        outbox.id,
        due.map((d) => d.id),
      ),
    )
    .returning({ id: outbox.id, refId: outbox.refId, attempts: outbox.attempts })
  const order = new Map(due.map((d, i) => [d.id, i]))
  return leased.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
}

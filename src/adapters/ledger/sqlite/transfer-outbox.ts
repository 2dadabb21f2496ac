import { and, eq, gte, inArray, isNotNull, type SQL, sql } from 'drizzle-orm'
import { utcDayStart } from '../../../domain/transfer-limits.ts'
import type { Fenced, Store, TransferClaim } from '../../../ports/store.ts'
import { replayedOutbox } from '../outbox-claims.ts'
import { planClaims, takenOver, transferOutboxId } from '../transfer-claims.ts'
import type { Ledger } from './database.ts'
import type { HotStatements } from './hot-statements.ts'
import { dueOutboxRows } from './outbox-due.ts'
import { outbox, transfers } from './schema.ts'

type Db = Ledger['db']
type Steps = Pick<
  Store,
  | 'claimTransfers'
  | 'transferCreated'
  | 'transfersCreated'
  | 'unresolvedTransfers'
  | 'transferRetry'
  | 'transferDead'
  | 'replayDeadTransfers'
>

const clip = (text: string, max = 1000) => (text.length > max ? text.slice(0, max) : text)
const written: Fenced = { kind: 'written' }
const stale: Fenced = { kind: 'stale' }

/** The transfer's outbox row, while `claim` still owns it. */
const owned = (claim: TransferClaim) =>
  and(
    eq(outbox.id, transferOutboxId(claim.transferId)),
    eq(outbox.status, 'in_flight'),
    eq(outbox.attempts, claim.attempt),
  )

/**
 * Cents counting against today's limit: transfers created since the UTC day began, plus those a claim
 * reserved that have not ended (in flight, retrying, or known to be at Stark Bank).
 */
export function reservedToday(t: Db, now: number): number {
  // Two index searches rather than one OR, which would read every created transfer ever. Only a
  // created transfer has a sent_at (and created never moves back), so sent_at alone finds today's.
  const sum = (where: SQL | undefined) =>
    Number(
      t
        .select({ total: sql<number>`coalesce(sum(${transfers.amount}), 0)` })
        .from(transfers)
        .where(where)
        .get()?.total ?? 0,
    )
  return (
    sum(gte(transfers.sentAt, utcDayStart(now))) +
    sum(and(eq(transfers.status, 'pending'), isNotNull(transfers.reservedAt)))
  )
}

/**
 * The relay's steps on bun:sqlite, each one synchronous IMMEDIATE transaction (`tx`): the claim
 * decides the daily budget while no other process can write, so relays sharing the file serialise
 * there. Every outcome write is fenced by the claim's number (`owned`), except Stark Bank's
 * "created", which is a fact whoever reports it.
 */
export function sqliteTransferOutbox(deps: {
  /** For reads outside a write transaction (a scrape must not wait for the write lock). */
  db: Db
  tx: <T>(fn: (t: Db) => T) => T
  st: HotStatements
  markCreated: (
    st: HotStatements,
    transferId: string,
    bank: { id: string; status: string },
    now: number,
  ) => void
}): Steps {
  const { tx, st, markCreated } = deps
  const created = (claim: TransferClaim, bank: { id: string; status: string }, now: number): Fenced => {
    const mine = st.outboxDoneOwned.all({
      id: transferOutboxId(claim.transferId),
      attempt: claim.attempt,
      now,
    })
    markCreated(st, claim.transferId, bank, now)
    return mine.length > 0 ? written : stale
  }

  return {
    async claimTransfers(limit, now, leaseMs, limits) {
      if (limit <= 0) return { claimed: [], held: [] }
      return tx((t) => {
        const due = dueOutboxRows(t, 'transfer', now, limit)
        if (due.length === 0) return { claimed: [], held: [] }
        const rows = t
          .select({
            id: transfers.id,
            request: transfers.request,
            amount: transfers.amount,
            approvedAt: transfers.approvedAt,
            reservedAt: transfers.reservedAt,
            atBankAt: transfers.atBankAt,
            unresolvedAt: transfers.unresolvedAt,
          })
          .from(transfers)
          .where(
            inArray(
              transfers.id,
              due.map((d) => d.refId),
            ),
          )
          .all()
        const plan = planClaims(due, rows, limits, () => reservedToday(t, now))
        const leased = plan.claimed.map((c) => c.transferId)
        if (leased.length > 0) {
          t.update(outbox)
            .set({
              status: 'in_flight',
              leaseUntil: now + leaseMs,
              attempts: sql`${outbox.attempts} + 1`,
              updatedAt: now,
            })
            .where(inArray(outbox.id, leased.map(transferOutboxId)))
            .run()
          t.update(transfers)
            .set({ reservedAt: sql`coalesce(${transfers.reservedAt}, ${now})` })
            .where(inArray(transfers.id, leased))
            .run()
          const maybeAtBank = takenOver(plan, due)
          if (maybeAtBank.length > 0)
            t.update(transfers)
              .set({ atBankAt: sql`coalesce(${transfers.atBankAt}, ${now})` })
              .where(inArray(transfers.id, maybeAtBank))
              .run()
        }
        for (const h of plan.held) {
          t.update(transfers)
            .set({ status: 'held', reason: h.reason, updatedAt: now })
            .where(eq(transfers.id, h.transferId))
            .run()
          t.update(outbox)
            .set({ status: 'held', leaseUntil: null, lastError: h.reason, updatedAt: now })
            .where(eq(outbox.id, transferOutboxId(h.transferId)))
            .run()
        }
        return plan
      })
    },

    async transferCreated(claim, bank, now) {
      return tx(() => created(claim, bank, now))
    },

    async transfersCreated(list, now) {
      return tx(() => list.map((c) => created(c.claim, c.bank, now)))
    },

    async transferRetry(claim, retry, now) {
      return tx((t) => {
        const moved = t
          .update(outbox)
          .set({
            status: 'pending',
            nextAttemptAt: retry.nextAttemptAt,
            leaseUntil: null,
            lastError: clip(retry.error),
            ...(retry.uncounted ? { freeAttempts: sql`${outbox.freeAttempts} + 1` } : {}),
            updatedAt: now,
          })
          .where(owned(claim))
          .returning({ id: outbox.id })
          .all()
        if (moved.length === 0) return stale
        if (retry.atBank || retry.unresolved) {
          t.update(transfers)
            .set({
              ...(retry.atBank ? { atBankAt: sql`coalesce(${transfers.atBankAt}, ${now})` } : {}),
              ...(retry.unresolved ? { unresolvedAt: sql`coalesce(${transfers.unresolvedAt}, ${now})` } : {}),
              reason: clip(retry.error),
              updatedAt: now,
            })
            .where(and(eq(transfers.id, claim.transferId), eq(transfers.status, 'pending')))
            .run()
        }
        return written
      })
    },

    async unresolvedTransfers() {
      const row = deps.db
        .select({ n: sql<number>`count(*)` })
        .from(transfers)
        .where(and(eq(transfers.status, 'pending'), isNotNull(transfers.unresolvedAt)))
        .get()
      return Number(row?.n ?? 0)
    },

    async transferDead(claim, reason, now) {
      return tx((t) => {
        const moved = t
          .update(outbox)
          .set({ status: 'dead', leaseUntil: null, lastError: clip(reason), updatedAt: now })
          .where(owned(claim))
          .returning({ id: outbox.id })
          .all()
        if (moved.length === 0) return stale
        t.update(transfers)
          .set({ status: 'dead', reason: clip(reason), reservedAt: null, updatedAt: now })
          .where(and(eq(transfers.id, claim.transferId), eq(transfers.status, 'pending')))
          .run()
        return written
      })
    },

    async replayDeadTransfers(filter, now, { dryRun }) {
      return tx((t) => {
        const dead = t
          .select({ transferId: transfers.id, amount: transfers.amount, reason: transfers.reason })
          .from(transfers)
          .where(
            and(
              eq(transfers.status, 'dead'),
              filter.transferId === undefined ? undefined : eq(transfers.id, filter.transferId),
            ),
          )
          .orderBy(transfers.createdAt, transfers.id)
          .all()
        if (dryRun || dead.length === 0) return dead
        const ids = dead.map((d) => d.transferId)
        t.update(transfers)
          .set({ status: 'pending', reason: null, reservedAt: null, unresolvedAt: null, updatedAt: now })
          .where(and(inArray(transfers.id, ids), eq(transfers.status, 'dead')))
          .run()
        // The claim count goes on (it fences stale relays); only the retry count starts again.
        t.update(outbox)
          .set(replayedOutbox(outbox.attempts, now))
          .where(inArray(outbox.id, ids.map(transferOutboxId)))
          .run()
        return dead
      })
    },
  }
}

import { and, eq, gte, inArray, isNotNull, type SQL, sql } from 'drizzle-orm'
import { utcDayStart } from '../../../domain/transfer-limits.ts'
import type { Fenced, Store, TransferClaim } from '../../../ports/store.ts'
import { replayedOutbox } from '../outbox-claims.ts'
import { planClaims, takenOver, transferOutboxId } from '../transfer-claims.ts'
import type { PgDb } from './database.ts'
import { leaseOutbox, lockDueOutbox } from './outbox-lease.ts'
import { outbox, transfers } from './schema.ts'

type Tx = Parameters<Parameters<PgDb['transaction']>[0]>[0]
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

/**
 * Serialises the daily budget: every claim that decides send or hold takes this transaction-scoped
 * advisory lock first, so no two relays count the same remaining budget. Any fixed key will do; this
 * one reads "paybrdg1".
 */
const BUDGET_LOCK = 0x7061796272646731n

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
 * See the SQLite twin: created today plus reserved and not ended. ONE statement, so one snapshot:
 * under READ COMMITTED two statements would each see their own, and a transfer another relay marks
 * created between them (pending → created) would be in neither sum, letting this claim spend it again.
 * The two scalar subqueries keep the two index searches.
 */
async function reservedToday(t: Tx, now: number): Promise<number> {
  const sum = (where: SQL | undefined) =>
    sql`(select coalesce(sum(${transfers.amount}), 0) from ${transfers} where ${where})`
  const [row] = await t.execute<{ total: string }>(
    sql`select ${sum(gte(transfers.sentAt, utcDayStart(now)))} + ${sum(
      and(eq(transfers.status, 'pending'), isNotNull(transfers.reservedAt)),
    )} as total`,
  )
  return Number(row?.total ?? 0)
}

/**
 * The relay's steps on PostgreSQL, each one transaction. Outcome writes are fenced by the claim's
 * number (`owned`), except Stark Bank's "created", which is a fact whoever reports it.
 */
export function postgresTransferOutbox(deps: {
  db: PgDb
  markCreated: (t: Tx, transferId: string, bank: { id: string; status: string }, now: number) => Promise<void>
}): Steps {
  const { db, markCreated } = deps
  const created = async (t: Tx, claim: TransferClaim, bank: { id: string; status: string }, now: number) => {
    const mine = await t
      .update(outbox)
      .set({ status: 'done', leaseUntil: null, lastError: null, updatedAt: now })
      .where(owned(claim))
      .returning({ id: outbox.id })
    await markCreated(t, claim.transferId, bank, now)
    return mine.length > 0 ? written : stale
  }

  return {
    async claimTransfers(limit, now, leaseMs, limits) {
      if (limit <= 0) return { claimed: [], held: [] }
      return db.transaction(async (t) => {
        if (limits) await t.execute(sql`select pg_advisory_xact_lock(${BUDGET_LOCK})`)
        const due = await lockDueOutbox(t, 'transfer', now, limit)
        if (due.length === 0) return { claimed: [], held: [] }
        const rows = await t
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
        const budget = limits ? await reservedToday(t, now) : 0
        const plan = planClaims(due, rows, limits, () => budget)
        const leased = plan.claimed.map((c) => c.transferId)
        if (leased.length > 0) {
          await leaseOutbox(t, leased.map(transferOutboxId), now, leaseMs)
          await t
            .update(transfers)
            .set({ reservedAt: sql`coalesce(${transfers.reservedAt}, ${now})` })
            .where(inArray(transfers.id, leased))
          const maybeAtBank = takenOver(plan, due)
          if (maybeAtBank.length > 0)
            await t
              .update(transfers)
              .set({ atBankAt: sql`coalesce(${transfers.atBankAt}, ${now})` })
              .where(inArray(transfers.id, maybeAtBank))
        }
        for (const h of plan.held) {
          await t
            .update(transfers)
            .set({ status: 'held', reason: h.reason, updatedAt: now })
            .where(eq(transfers.id, h.transferId))
          await t
            .update(outbox)
            .set({ status: 'held', leaseUntil: null, lastError: h.reason, updatedAt: now })
            .where(eq(outbox.id, transferOutboxId(h.transferId)))
        }
        return plan
      })
    },

    async transferCreated(claim, bank, now) {
      return db.transaction((t) => created(t, claim, bank, now))
    },

    async transfersCreated(list, now) {
      return db.transaction(async (t) => {
        const results: Fenced[] = []
        for (const c of list) results.push(await created(t, c.claim, c.bank, now))
        return results
      })
    },

    async transferRetry(claim, retry, now) {
      return db.transaction(async (t) => {
        const moved = await t
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
        if (moved.length === 0) return stale
        if (retry.atBank || retry.unresolved) {
          await t
            .update(transfers)
            .set({
              ...(retry.atBank ? { atBankAt: sql`coalesce(${transfers.atBankAt}, ${now})` } : {}),
              ...(retry.unresolved ? { unresolvedAt: sql`coalesce(${transfers.unresolvedAt}, ${now})` } : {}),
              reason: clip(retry.error),
              updatedAt: now,
            })
            .where(and(eq(transfers.id, claim.transferId), eq(transfers.status, 'pending')))
        }
        return written
      })
    },

    async unresolvedTransfers() {
      const [row] = await db
        .select({ n: sql<string>`count(*)` })
        .from(transfers)
        .where(and(eq(transfers.status, 'pending'), isNotNull(transfers.unresolvedAt)))
      return Number(row?.n ?? 0)
    },

    async transferDead(claim, reason, now) {
      return db.transaction(async (t) => {
        const moved = await t
          .update(outbox)
          .set({ status: 'dead', leaseUntil: null, lastError: clip(reason), updatedAt: now })
          .where(owned(claim))
          .returning({ id: outbox.id })
        if (moved.length === 0) return stale
        await t
          .update(transfers)
          .set({ status: 'dead', reason: clip(reason), reservedAt: null, updatedAt: now })
          .where(and(eq(transfers.id, claim.transferId), eq(transfers.status, 'pending')))
        return written
      })
    },

    async replayDeadTransfers(filter, now, { dryRun }) {
      return db.transaction(async (t) => {
        const dead = await t
          .select({ transferId: transfers.id, amount: transfers.amount, reason: transfers.reason })
          .from(transfers)
          .where(
            and(
              eq(transfers.status, 'dead'),
              filter.transferId === undefined ? undefined : eq(transfers.id, filter.transferId),
            ),
          )
          .orderBy(transfers.createdAt, transfers.id)
          .for('update')
        if (dryRun || dead.length === 0) return dead
        const ids = dead.map((d) => d.transferId)
        await t
          .update(transfers)
          .set({ status: 'pending', reason: null, reservedAt: null, unresolvedAt: null, updatedAt: now })
          .where(and(inArray(transfers.id, ids), eq(transfers.status, 'dead')))
        // The claim count goes on (it fences stale relays); only the retry count starts again.
        await t
          .update(outbox)
          .set(replayedOutbox(outbox.attempts, now))
          .where(inArray(outbox.id, ids.map(transferOutboxId)))
        return dead
      })
    },
  }
}

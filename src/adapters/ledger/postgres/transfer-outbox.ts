import { and, eq, inArray, ne, or, type SQL, sql } from 'drizzle-orm'
import type { Fenced, TransferClaim } from '../../../ports/store.ts'
import { doneOutbox, replayedOutbox } from '../outbox-claims.ts'
import { planClaims, takenOver, transferOutboxId } from '../transfer-claims.ts'
import * as transferWrites from '../transfer-writes.ts'
import { applyPendingTransferEvents } from './bank-events.ts'
import type { PgDb, PgTx } from './database.ts'
import { anyOf, updateEach } from './many-rows.ts'
import { leaseOutbox, lockDueOutbox } from './outbox-lease.ts'
import { events, outbox, transfers } from './schema.ts'

/**
 * Serialises the daily budget: every claim that decides send or hold takes this transaction-scoped
 * advisory lock before it reads the budget, so no two relays count the same remaining budget. It is
 * held until the claim commits: every round trip after it makes the other relays wait. Any fixed key will do; this
 * one reads "paybrdg1".
 */
const BUDGET_LOCK = 0x7061796272646731n

/**
 * Cents counting against today's limit (see transferWrites.reservedTodayParts) in ONE statement, so one snapshot:
 * under READ COMMITTED two statements would each see their own, and a transfer another relay marks
 * created between them (pending → created) would be in neither sum, letting this claim spend it again.
 * The two scalar subqueries keep the two index searches.
 */
async function reservedToday(t: PgTx, now: number): Promise<number> {
  const sum = (where: SQL | undefined) =>
    sql`(select coalesce(sum(${transfers.amount}), 0) from ${transfers} where ${where})`
  const [createdToday, reserved] = transferWrites.reservedTodayParts(transfers, now)
  const [row] = await t.execute<{ total: string }>(
    sql`select ${sum(createdToday)} + ${sum(reserved)} as total`,
  )
  return Number(row?.total ?? 0)
}

/**
 * A relay batch Stark Bank created (distinct transfers), as `created` then `markCreated` would write
 * it transfer by transfer, in three statements whatever its size: the outbox rows their claims still
 * own marked done (the others too, in one more statement: created is a fact whoever reports it), the
 * transfers created, and a look for transfer events that came before them (applied one by one: rare).
 */
async function createdMany(
  t: PgTx,
  list: Parameters<transferWrites.TransferSteps['transfersCreated']>[0],
  now: number,
): Promise<Fenced[]> {
  const owned = await t
    .update(outbox)
    .set(doneOutbox(now))
    .where(or(...list.map((c) => transferWrites.ownedTransfer(outbox, c.claim))))
    .returning({ id: outbox.id })
  const mine = new Set(owned.map((r) => r.id))
  const theirs = list.map((c) => transferOutboxId(c.claim.transferId)).filter((id) => !mine.has(id))
  if (theirs.length > 0) await t.update(outbox).set(doneOutbox(now)).where(anyOf(outbox.id, theirs))
  const rows = list
    .map((c) => ({ id: c.claim.transferId, ...transferWrites.createdTransfer(c.bank, now) }))
    .sort((a, b) => (a.id < b.id ? -1 : 1))
  // Created never moves back, and keeps the Stark Bank id it was first given.
  await updateEach(t, transfers, 'id', rows, ne(transfers.status, 'created'))
  const kept = await t
    .select({ subjectId: events.subjectId, refId: events.refId })
    .from(events)
    .where(
      and(
        eq(events.flag, 'unmatched'),
        or(
          anyOf(
            events.subjectId,
            list.map((c) => c.bank.id),
          ),
          anyOf(
            events.refId,
            list.map((c) => c.claim.transferId),
          ),
        ),
      ),
    )
  for (const c of list)
    if (kept.some((k) => k.subjectId === c.bank.id || k.refId === c.claim.transferId))
      await applyPendingTransferEvents(t, c.claim.transferId, c.bank.id, now)
  return list.map((c) =>
    mine.has(transferOutboxId(c.claim.transferId)) ? transferWrites.written : transferWrites.stale,
  )
}

/**
 * The relay's steps on PostgreSQL, each one transaction; what they write is ../transfer-writes.ts.
 */
export function postgresTransferOutbox(deps: {
  db: PgDb
  markCreated: (
    t: PgTx,
    transferId: string,
    bank: { id: string; status: string },
    now: number,
  ) => Promise<void>
}): transferWrites.TransferSteps {
  const { db, markCreated } = deps
  const created = async (
    t: PgTx,
    claim: TransferClaim,
    bank: { id: string; status: string },
    now: number,
  ) => {
    const mine = await t
      .update(outbox)
      .set(doneOutbox(now))
      .where(transferWrites.ownedTransfer(outbox, claim))
      .returning({ id: outbox.id })
    await markCreated(t, claim.transferId, bank, now)
    return mine.length > 0 ? transferWrites.written : transferWrites.stale
  }
  /** Ends a claim: the outbox row if the claim still owns it, then (if it did) the transfer. */
  const ended = (claim: TransferClaim, end: transferWrites.ClaimEnd) =>
    db.transaction(async (t): Promise<Fenced> => {
      const moved = await t
        .update(outbox)
        .set(end.outbox)
        .where(transferWrites.ownedTransfer(outbox, claim))
        .returning({ id: outbox.id })
      if (moved.length === 0) return transferWrites.stale
      if (end.transfer)
        await t
          .update(transfers)
          .set(end.transfer)
          .where(transferWrites.stillPending(transfers, claim.transferId))
      return transferWrites.written
    })

  return {
    async claimTransfers(limit, now, leaseMs, limits) {
      if (limit <= 0) return { claimed: [], held: [] }
      return db.transaction(async (t) => {
        const due = await lockDueOutbox(t, 'transfer', now, limit)
        if (due.length === 0) return { claimed: [], held: [] }
        const rows = await t
          .select(transferWrites.transferRowColumns(transfers))
          .from(transfers)
          .where(
            inArray(
              transfers.id,
              due.map((d) => d.refId),
            ),
          )
        // The budget lock is taken only now, for the read of the budget and the writes that spend it:
        // the due rows are this claim's alone already (SKIP LOCKED), and an empty claim takes no lock.
        let budget = 0
        if (limits) {
          await t.execute(sql`select pg_advisory_xact_lock(${BUDGET_LOCK})`)
          budget = await reservedToday(t, now)
        }
        const plan = planClaims(due, rows, limits, () => budget)
        const leased = plan.claimed.map((c) => c.transferId)
        if (leased.length > 0) {
          await leaseOutbox(t, leased.map(transferOutboxId), now, leaseMs)
          await t
            .update(transfers)
            .set(transferWrites.reservedTransfer(transfers, now))
            .where(inArray(transfers.id, leased))
          const maybeAtBank = takenOver(plan, due)
          if (maybeAtBank.length > 0)
            await t
              .update(transfers)
              .set(transferWrites.atBankTransfer(transfers, now))
              .where(inArray(transfers.id, maybeAtBank))
        }
        for (const h of plan.held) {
          await t
            .update(transfers)
            .set(transferWrites.heldTransfer(h.reason, now))
            .where(eq(transfers.id, h.transferId))
          await t
            .update(outbox)
            .set(transferWrites.heldOutbox(h.reason, now))
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
        const ids = new Set(list.map((c) => c.claim.transferId))
        if (list.length > 1 && ids.size === list.length) return createdMany(t, list, now)
        const results: Fenced[] = []
        for (const c of list) results.push(await created(t, c.claim, c.bank, now))
        return results
      })
    },

    async transferRetry(claim, retry, now) {
      return ended(claim, transferWrites.retryEnd({ outbox, transfers }, retry, now))
    },

    async unresolvedTransfers() {
      const [row] = await db
        .select({ n: sql<string>`count(*)` })
        .from(transfers)
        .where(transferWrites.unresolvedWhere(transfers))
      return Number(row?.n ?? 0)
    },

    async transferDead(claim, reason, now) {
      return ended(claim, transferWrites.deadEnd(reason, now))
    },

    async replayDeadTransfers(filter, now, { dryRun }) {
      return db.transaction(async (t) => {
        const dead = await t
          .select({ transferId: transfers.id, amount: transfers.amount, reason: transfers.reason })
          .from(transfers)
          .where(transferWrites.deadTransfersWhere(transfers, filter))
          .orderBy(transfers.createdAt, transfers.id)
          .for('update')
        if (dryRun || dead.length === 0) return dead
        const ids = dead.map((d) => d.transferId)
        await t
          .update(transfers)
          .set(transferWrites.replayedTransfer(now))
          .where(and(inArray(transfers.id, ids), eq(transfers.status, 'dead')))
        // The claim count goes on (it fences transferWrites.stale relays); only the retry count starts again.
        await t
          .update(outbox)
          .set(replayedOutbox(outbox.attempts, now))
          .where(inArray(outbox.id, ids.map(transferOutboxId)))
        return dead
      })
    },
  }
}

import { and, eq, inArray, type SQL, sql } from 'drizzle-orm'
import { utcDayStart } from '../../../domain/transfer-limits.ts'
import type { Fenced, TransferClaim } from '../../../ports/store.ts'
import { doneOutbox, leasedOutbox, replayedOutbox } from '../outbox-claims.ts'
import { planClaims, takenOver, transferOutboxId } from '../transfer-claims.ts'
import * as transferWrites from '../transfer-writes.ts'
import type { Db } from './database.ts'
import type { HotStatements } from './hot-statements.ts'
import { dueOutbox } from './outbox-due.ts'
import { outbox, transfers } from './schema.ts'

/**
 * Cents counting against today's limit (see transferWrites.reservedTodayParts): two index searches,
 * prepared once (drizzle builds and prepares a query on every call, which cost more than the
 * searches). They run on the ledger's one connection, so inside the claim's transaction.
 */
export function reservedToday(db: Db): (now: number) => number {
  const total = (where: SQL | undefined) =>
    db
      .select({ total: sql<number>`coalesce(sum(${transfers.amount}), 0)` })
      .from(transfers)
      .where(where)
      .prepare()
  const [createdToday, reserved] = transferWrites.reservedSinceParts(transfers, sql.placeholder('dayStart'))
  const created = total(createdToday)
  const pending = total(reserved)
  return (now) => {
    const dayStart = utcDayStart(now)
    return Number(created.get({ dayStart })?.total ?? 0) + Number(pending.get({ dayStart })?.total ?? 0)
  }
}

/**
 * The relay's steps on bun:sqlite, each one synchronous IMMEDIATE transaction (`tx`): the claim
 * decides the daily budget while no other process can write, so relays sharing the file serialise
 * there. What they write is ../transfer-writes.ts.
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
}): transferWrites.TransferSteps {
  const { tx, st, markCreated } = deps
  const dueOutboxRows = dueOutbox(deps.db)
  const reservedCents = reservedToday(deps.db)
  const created = (claim: TransferClaim, bank: { id: string; status: string }, now: number): Fenced => {
    const mine = st.outboxDoneOwned.all({
      id: transferOutboxId(claim.transferId),
      attempt: claim.attempt,
      ...doneOutbox(now),
    })
    markCreated(st, claim.transferId, bank, now)
    return mine.length > 0 ? transferWrites.written : transferWrites.stale
  }
  /** Ends a claim: the outbox row if the claim still owns it, then (if it did) the transfer. */
  const ended = (t: Db, claim: TransferClaim, end: transferWrites.ClaimEnd) => {
    const moved = t
      .update(outbox)
      .set(end.outbox)
      .where(transferWrites.ownedTransfer(outbox, claim))
      .returning({ id: outbox.id })
      .all()
    if (moved.length === 0) return transferWrites.stale
    if (end.transfer)
      t.update(transfers)
        .set(end.transfer)
        .where(transferWrites.stillPending(transfers, claim.transferId))
        .run()
    return transferWrites.written
  }

  return {
    async claimTransfers(limit, now, leaseMs, limits) {
      if (limit <= 0) return { claimed: [], held: [] }
      return tx((t) => {
        const due = dueOutboxRows('transfer', now, limit)
        if (due.length === 0) return { claimed: [], held: [] }
        const ids = due.map((d) => d.refId)
        const rows = t
          .select(transferWrites.transferRowColumns(transfers))
          .from(transfers)
          .where(inArray(transfers.id, ids))
          .all()
        const plan = planClaims(due, rows, limits, () => reservedCents(now))
        const leased = plan.claimed.map((c) => c.transferId)
        if (leased.length > 0) {
          const leasedIds = leased.map(transferOutboxId)
          t.update(outbox)
            .set(leasedOutbox(outbox, now, leaseMs))
            .where(inArray(outbox.id, leasedIds))
            .run()
          t.update(transfers)
            .set(transferWrites.reservedTransfer(transfers, now))
            .where(inArray(transfers.id, leased))
            .run()
          const maybeAtBank = takenOver(plan, due)
          if (maybeAtBank.length > 0)
            t.update(transfers)
              .set(transferWrites.atBankTransfer(transfers, now))
              .where(inArray(transfers.id, maybeAtBank))
              .run()
        }
        for (const h of plan.held) {
          t.update(transfers)
            .set(transferWrites.heldTransfer(h.reason, now))
            .where(eq(transfers.id, h.transferId))
            .run()
          const heldId = transferOutboxId(h.transferId)
          t.update(outbox).set(transferWrites.heldOutbox(h.reason, now)).where(eq(outbox.id, heldId)).run()
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
      return tx((t) => ended(t, claim, transferWrites.retryEnd({ outbox, transfers }, retry, now)))
    },

    async unresolvedTransfers() {
      const row = deps.db
        .select({ n: sql<number>`count(*)` })
        .from(transfers)
        .where(transferWrites.unresolvedWhere(transfers))
        .get()
      return Number(row?.n ?? 0)
    },

    async transferDead(claim, reason, now) {
      return tx((t) => ended(t, claim, transferWrites.deadEnd(reason, now)))
    },

    async replayDeadTransfers(filter, now, { dryRun }) {
      return tx((t) => {
        const dead = t
          .select({ transferId: transfers.id, amount: transfers.amount, reason: transfers.reason })
          .from(transfers)
          .where(transferWrites.deadTransfersWhere(transfers, filter))
          .orderBy(transfers.createdAt, transfers.id)
          .all()
        if (dryRun || dead.length === 0) return dead
        const ids = dead.map((d) => d.transferId)
        t.update(transfers)
          .set(transferWrites.replayedTransfer(now))
          .where(and(inArray(transfers.id, ids), eq(transfers.status, 'dead')))
          .run()
        // The claim count goes on (it fences transferWrites.stale relays); only the retry count starts again.
        t.update(outbox)
          .set(replayedOutbox(outbox.attempts, now))
          .where(inArray(outbox.id, ids.map(transferOutboxId)))
          .run()
        return dead
      })
    },
  }
}

import { and, asc, desc, eq, gte, sql } from 'drizzle-orm'
import { adoptionFor } from '../../../domain/credit.ts'
import { invoiceTag, type PlannedInvoice, runTag } from '../../../domain/invoice-batch.ts'
import type { Fenced, RunClaim, Store } from '../../../ports/store.ts'
import { deadLetterOf } from '../dead-letters.ts'
import { guardSteps, sqliteStep } from '../ledger-failure.ts'
import {
  claimColumns,
  createStartColumns,
  failedCreateColumns,
  lastCreateOf,
  newClaimToken,
  releasedColumns,
  runClaimable,
} from '../run-claims.ts'
import { transferOutboxId } from '../transfer-claims.ts'
import { applyPendingTransferEvents, recordIn } from './bank-events.ts'
import type { Ledger } from './database.ts'
import { type HotStatements, hotStatements } from './hot-statements.ts'
import { deadLetters, invoices, outbox, schedulerRuns, transfers } from './schema.ts'
import { sqliteTransferOutbox } from './transfer-outbox.ts'

/**
 * The Store on bun:sqlite. Every step is one synchronous IMMEDIATE transaction (bun:sqlite commits an
 * async callback at its first await, so no transaction here awaits; the methods are async only to
 * fit the port), which also serialises writers across processes sharing the file.
 */
export function sqliteStore(ledger: Ledger): Store {
  return guardSteps(sqliteStoreSteps(ledger), sqliteStep)
}

function sqliteStoreSteps(ledger: Ledger): Store {
  const { db } = ledger
  const st = hotStatements(db)
  const tx = <T>(fn: (t: typeof db) => T): T =>
    db.transaction((t) => fn(t as unknown as typeof db), { behavior: 'immediate' })

  return {
    async planRun(run, now) {
      return tx((t) => {
        const taken = t
          .select({ id: schedulerRuns.id })
          .from(schedulerRuns)
          .where(eq(schedulerRuns.slot, run.slot))
          .get()
        if (taken) return { kind: 'taken' as const, runId: taken.id }
        t.insert(schedulerRuns)
          .values({
            id: run.id,
            slot: run.slot,
            status: 'planned',
            invoiceCount: run.invoices.length,
            plannedAt: now,
          })
          .run()
        if (run.invoices.length > 0) {
          t.insert(invoices)
            .values(
              run.invoices.map((i) => ({
                id: i.id,
                runId: run.id,
                amount: i.amount,
                name: i.name,
                taxId: i.taxId,
                status: 'planned' as const,
                createdAt: now,
                updatedAt: now,
              })),
            )
            .run()
        }
        return { kind: 'planned' as const }
      })
    },

    async unfinishedRuns() {
      const runs = db
        .select()
        .from(schedulerRuns)
        .where(eq(schedulerRuns.status, 'planned'))
        .orderBy(asc(schedulerRuns.plannedAt))
        .all()
      return runs.map((r) => {
        const rows = db
          .select()
          .from(invoices)
          .where(eq(invoices.runId, r.id))
          .orderBy(asc(invoices.id))
          .all()
        const planned: PlannedInvoice[] = rows.map((i) => ({
          id: i.id,
          runId: r.id,
          name: i.name,
          taxId: i.taxId,
          amount: i.amount,
          tags: [runTag(r.id), invoiceTag(i.id)],
        }))
        return {
          id: r.id,
          slot: r.slot,
          attempts: r.attempts,
          invoices: planned,
          lastCreate: lastCreateOf(r),
        }
      })
    },

    async claimRun(runId, now, leaseMs) {
      const token = newClaimToken()
      const claimed = tx((t) => {
        const run = t
          .select({
            status: schedulerRuns.status,
            claimedBy: schedulerRuns.claimedBy,
            claimedUntil: schedulerRuns.claimedUntil,
          })
          .from(schedulerRuns)
          .where(eq(schedulerRuns.id, runId))
          .get()
        if (!runClaimable(run, now)) return false
        t.update(schedulerRuns)
          .set(claimColumns(token, now, leaseMs))
          .where(eq(schedulerRuns.id, runId))
          .run()
        return true
      })
      if (!claimed) return undefined
      const mine = and(
        eq(schedulerRuns.id, runId),
        eq(schedulerRuns.claimToken, token),
        eq(schedulerRuns.status, 'planned'),
      )
      const held = (at: number, also: Partial<typeof schedulerRuns.$inferInsert>) =>
        tx(
          (t) =>
            t
              .update(schedulerRuns)
              .set({ claimedUntil: at + leaseMs, ...also })
              .where(mine)
              .returning({ id: schedulerRuns.id })
              .all().length === 1,
        )
      const claim: RunClaim = {
        token,
        async stillHeld(at) {
          return held(at, {})
        },
        async beforeCreate(at) {
          return held(at, createStartColumns(at))
        },
        async release() {
          tx((t) =>
            t
              .update(schedulerRuns)
              .set(releasedColumns)
              .where(and(eq(schedulerRuns.id, runId), eq(schedulerRuns.claimToken, token)))
              .run(),
          )
        },
      }
      return claim
    },

    async markRunIssued(runId, issued, now, claim) {
      return tx((t): Fenced => {
        if (claim) {
          const run = t
            .select({ token: schedulerRuns.claimToken })
            .from(schedulerRuns)
            .where(eq(schedulerRuns.id, runId))
            .get()
          if (run?.token !== claim.token) return { kind: 'stale' }
        }
        for (const { invoiceId, bankId } of issued) {
          const holder = t.select().from(invoices).where(eq(invoices.starkId, bankId)).get()
          const held = t.select().from(transfers).where(eq(transfers.invoiceStarkId, bankId)).get()
          const adoption = adoptionFor(invoiceId, bankId, holder, held)
          if (holder && adoption.kind === 'adopt') {
            if (adoption.payout === 'pay' && held) {
              t.update(transfers)
                .set({ status: 'pending', reason: null, updatedAt: now })
                .where(and(eq(transfers.id, held.id), eq(transfers.status, 'skipped')))
                .run()
              t.insert(outbox)
                .values({
                  id: transferOutboxId(held.id),
                  kind: 'transfer',
                  refId: held.id,
                  status: 'pending',
                  nextAttemptAt: now,
                  createdAt: now,
                  updatedAt: now,
                })
                .onConflictDoNothing()
                .run()
            }
            t.delete(invoices).where(eq(invoices.id, holder.id)).run()
            t.update(invoices)
              .set({
                starkId: bankId,
                status: holder.status,
                fee: holder.fee,
                creditedAmount: holder.creditedAmount,
                creditedAt: holder.creditedAt,
                updatedAt: now,
              })
              .where(eq(invoices.id, invoiceId))
              .run()
          }
          t.update(invoices)
            .set({ starkId: bankId, status: 'issued', updatedAt: now })
            .where(and(eq(invoices.id, invoiceId), eq(invoices.status, 'planned')))
            .run()
        }
        t.update(schedulerRuns)
          .set({
            status: 'issued',
            issuedAt: now,
            attempts: sql`${schedulerRuns.attempts} + 1`,
            lastError: null,
          })
          .where(eq(schedulerRuns.id, runId))
          .run()
        return { kind: 'written' }
      })
    },

    async markRunFailed(runId, error, now, outcome) {
      tx((t) =>
        t
          .update(schedulerRuns)
          .set({
            attempts: sql`${schedulerRuns.attempts} + 1`,
            lastError: error.slice(0, 1000),
            ...failedCreateColumns(now, outcome),
          })
          .where(eq(schedulerRuns.id, runId))
          .run(),
      )
    },

    async lastRun() {
      return db
        .select({
          id: schedulerRuns.id,
          slot: schedulerRuns.slot,
          status: schedulerRuns.status,
          plannedAt: schedulerRuns.plannedAt,
        })
        .from(schedulerRuns)
        .orderBy(desc(schedulerRuns.plannedAt))
        .limit(1)
        .get()
    },

    async recordBankEvent(input, now) {
      return tx((t) => recordIn(t, st, input, now))
    },

    async recordBankEvents(inputs, now) {
      // One commit for a whole receive: the commit, not the inserts, is what costs.
      return tx((t) => inputs.map((input) => recordIn(t, st, input, now)))
    },

    ...sqliteTransferOutbox({ db, tx, st, markCreated }),

    async approveTransfer(transferId, now) {
      return tx((t) => {
        const row = t
          .select({ status: transfers.status })
          .from(transfers)
          .where(eq(transfers.id, transferId))
          .get()
        if (!row) return { kind: 'unknown' as const }
        if (row.status !== 'held') return { kind: 'not-held' as const, status: row.status }
        t.update(transfers)
          .set({ status: 'pending', approvedAt: now, reason: null, updatedAt: now })
          .where(eq(transfers.id, transferId))
          .run()
        t.update(outbox)
          .set({ status: 'pending', nextAttemptAt: now, lastError: null, updatedAt: now })
          .where(eq(outbox.id, transferOutboxId(transferId)))
          .run()
        return { kind: 'approved' as const }
      })
    },

    async sentSince(since) {
      const row = db
        .select({ total: sql<number>`coalesce(sum(${transfers.amount}), 0)` })
        .from(transfers)
        .where(and(eq(transfers.status, 'created'), gte(transfers.sentAt, since)))
        .get()
      return Number(row?.total ?? 0)
    },

    async deadLetter(entry, now) {
      tx((t) =>
        t
          .insert(deadLetters)
          .values({ ...entry, reason: entry.reason.slice(0, 1000), createdAt: now })
          .onConflictDoNothing()
          .run(),
      )
    },

    async listDeadLetters(limit) {
      return db.select().from(deadLetters).orderBy(asc(deadLetters.id)).limit(limit).all().map(deadLetterOf)
    },

    async deadLetterById(id) {
      const row = db.select().from(deadLetters).where(eq(deadLetters.id, id)).get()
      return row ? deadLetterOf(row) : undefined
    },

    async removeDeadLetter(id) {
      return tx(
        (t) =>
          t.delete(deadLetters).where(eq(deadLetters.id, id)).returning({ id: deadLetters.id }).all().length >
          0,
      )
    },
  }
}

function markCreated(
  st: HotStatements,
  transferId: string,
  bank: { id: string; status: string },
  now: number,
): void {
  st.markTransferCreated.run({ id: transferId, starkId: bank.id, bankStatus: bank.status, now })
  st.outboxDone.run({ id: transferOutboxId(transferId), now })
  applyPendingTransferEvents(st, transferId, bank.id, now)
}

import { and, asc, desc, eq, gte, inArray, ne, or, sql } from 'drizzle-orm'
import { adoptionFor } from '../../../domain/credit.ts'
import { invoiceTag, type PlannedInvoice, runTag } from '../../../domain/invoice-batch.ts'
import type { Fenced, RecordedEvent, RunClaim, Store } from '../../../ports/store.ts'
import { deadLetterOf } from '../dead-letters.ts'
import { guardSteps, postgresStep } from '../ledger-failure.ts'
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
import type { PgDb, PgLedger } from './database.ts'
import { deadLetters, invoices, outbox, schedulerRuns, transfers } from './schema.ts'
import { postgresTransferOutbox } from './transfer-outbox.ts'

type Tx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

const clip = (text: string, max = 1000) => (text.length > max ? text.slice(0, max) : text)

/**
 * The Store on PostgreSQL, shared by any number of paybridge processes. Every step is one async
 * transaction (READ COMMITTED) with nothing but ledger statements inside. Relays claim outbox rows
 * with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never get the same row; unique keys (event id,
 * schedule slot, one transfer per invoice) make concurrent writers of the same fact collide harmlessly.
 */
export function postgresStore(ledger: PgLedger): Store {
  return guardSteps(postgresStoreSteps(ledger), postgresStep)
}

function postgresStoreSteps(ledger: PgLedger): Store {
  const { db } = ledger

  return {
    async planRun(run, now) {
      return db.transaction(async (t) => {
        // A concurrent insert of the same slot waits for the first to commit, then inserts nothing.
        const inserted = await t
          .insert(schedulerRuns)
          .values({
            id: run.id,
            slot: run.slot,
            status: 'planned',
            invoiceCount: run.invoices.length,
            plannedAt: now,
          })
          .onConflictDoNothing()
          .returning({ id: schedulerRuns.id })
        if (inserted.length === 0) {
          const [taken] = await t
            .select({ id: schedulerRuns.id })
            .from(schedulerRuns)
            .where(or(eq(schedulerRuns.slot, run.slot), eq(schedulerRuns.id, run.id)))
            .limit(1)
          if (!taken) throw new Error(`run ${run.id} for ${run.slot} neither inserted nor found`)
          return { kind: 'taken' as const, runId: taken.id }
        }
        if (run.invoices.length > 0) {
          await t.insert(invoices).values(
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
        }
        return { kind: 'planned' as const }
      })
    },

    async unfinishedRuns() {
      const runs = await db
        .select()
        .from(schedulerRuns)
        .where(eq(schedulerRuns.status, 'planned'))
        .orderBy(asc(schedulerRuns.plannedAt))
      if (runs.length === 0) return []
      const rows = await db
        .select()
        .from(invoices)
        .where(
          inArray(
            invoices.runId,
            runs.map((r) => r.id),
          ),
        )
        .orderBy(asc(invoices.id))
      return runs.map((r) => {
        const planned: PlannedInvoice[] = rows
          .filter((i) => i.runId === r.id)
          .map((i) => ({
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
      const claimed = await db.transaction(async (t) => {
        // FOR UPDATE: concurrent claimers of one run take turns, and each sees the one before.
        const [run] = await t
          .select({
            status: schedulerRuns.status,
            claimedBy: schedulerRuns.claimedBy,
            claimedUntil: schedulerRuns.claimedUntil,
          })
          .from(schedulerRuns)
          .where(eq(schedulerRuns.id, runId))
          .for('update')
        if (!runClaimable(run, now)) return false
        await t
          .update(schedulerRuns)
          .set(claimColumns(token, now, leaseMs))
          .where(eq(schedulerRuns.id, runId))
        return true
      })
      if (!claimed) return undefined
      const mine = and(
        eq(schedulerRuns.id, runId),
        eq(schedulerRuns.claimToken, token),
        eq(schedulerRuns.status, 'planned'),
      )
      const held = async (at: number, also: Partial<typeof schedulerRuns.$inferInsert>) => {
        const renewed = await db
          .update(schedulerRuns)
          .set({ claimedUntil: at + leaseMs, ...also })
          .where(mine)
          .returning({ id: schedulerRuns.id })
        return renewed.length === 1
      }
      const claim: RunClaim = {
        token,
        async stillHeld(at) {
          return held(at, {})
        },
        async beforeCreate(at) {
          return held(at, createStartColumns(at))
        },
        async release() {
          await db
            .update(schedulerRuns)
            .set(releasedColumns)
            .where(and(eq(schedulerRuns.id, runId), eq(schedulerRuns.claimToken, token)))
        },
      }
      return claim
    },

    async markRunIssued(runId, issued, now, claim) {
      return db.transaction(async (t): Promise<Fenced> => {
        if (claim) {
          // The row lock holds off a claim taking the run over until this commits.
          const [run] = await t
            .select({ token: schedulerRuns.claimToken })
            .from(schedulerRuns)
            .where(eq(schedulerRuns.id, runId))
            .for('update')
          if (run?.token !== claim.token) return { kind: 'stale' }
        }
        for (const { invoiceId, bankId } of issued) {
          const [holder] = await t.select().from(invoices).where(eq(invoices.starkId, bankId)).for('update')
          const [held] = await t
            .select()
            .from(transfers)
            .where(eq(transfers.invoiceStarkId, bankId))
            .for('update')
          const adoption = adoptionFor(invoiceId, bankId, holder, held)
          if (holder && adoption.kind === 'adopt') {
            if (adoption.payout === 'pay' && held) {
              await t
                .update(transfers)
                .set({ status: 'pending', reason: null, updatedAt: now })
                .where(and(eq(transfers.id, held.id), eq(transfers.status, 'skipped')))
              await t
                .insert(outbox)
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
            }
            await t.delete(invoices).where(eq(invoices.id, holder.id))
            await t
              .update(invoices)
              .set({
                starkId: bankId,
                status: holder.status,
                fee: holder.fee,
                creditedAmount: holder.creditedAmount,
                creditedAt: holder.creditedAt,
                updatedAt: now,
              })
              .where(eq(invoices.id, invoiceId))
          }
          await t
            .update(invoices)
            .set({ starkId: bankId, status: 'issued', updatedAt: now })
            .where(and(eq(invoices.id, invoiceId), eq(invoices.status, 'planned')))
        }
        await t
          .update(schedulerRuns)
          .set({
            status: 'issued',
            issuedAt: now,
            attempts: sql`${schedulerRuns.attempts} + 1`,
            lastError: null,
          })
          .where(eq(schedulerRuns.id, runId))
        return { kind: 'written' }
      })
    },

    async markRunFailed(runId, error, now, outcome) {
      await db
        .update(schedulerRuns)
        .set({
          attempts: sql`${schedulerRuns.attempts} + 1`,
          lastError: clip(error),
          ...failedCreateColumns(now, outcome),
        })
        .where(eq(schedulerRuns.id, runId))
    },

    async lastRun() {
      const [row] = await db
        .select({
          id: schedulerRuns.id,
          slot: schedulerRuns.slot,
          status: schedulerRuns.status,
          plannedAt: schedulerRuns.plannedAt,
        })
        .from(schedulerRuns)
        .orderBy(desc(schedulerRuns.plannedAt))
        .limit(1)
      return row
    },

    async recordBankEvent(input, now) {
      return db.transaction((t) => recordIn(t, input, now))
    },

    async recordBankEvents(inputs, now) {
      return db.transaction(async (t) => {
        const results: RecordedEvent[] = []
        for (const input of inputs) results.push(await recordIn(t, input, now))
        return results
      })
    },

    ...postgresTransferOutbox({ db, markCreated }),

    async approveTransfer(transferId, now) {
      return db.transaction(async (t) => {
        const [row] = await t
          .select({ status: transfers.status })
          .from(transfers)
          .where(eq(transfers.id, transferId))
          .for('update')
        if (!row) return { kind: 'unknown' as const }
        if (row.status !== 'held') return { kind: 'not-held' as const, status: row.status }
        await t
          .update(transfers)
          .set({ status: 'pending', approvedAt: now, reason: null, updatedAt: now })
          .where(eq(transfers.id, transferId))
        await t
          .update(outbox)
          .set({ status: 'pending', nextAttemptAt: now, lastError: null, updatedAt: now })
          .where(eq(outbox.id, transferOutboxId(transferId)))
        return { kind: 'approved' as const }
      })
    },

    async sentSince(since) {
      const [row] = await db
        .select({ total: sql<string>`coalesce(sum(${transfers.amount}), 0)` })
        .from(transfers)
        .where(and(eq(transfers.status, 'created'), gte(transfers.sentAt, since)))
      return Number(row?.total ?? 0)
    },

    async deadLetter(entry, now) {
      await db
        .insert(deadLetters)
        .values({ ...entry, reason: clip(entry.reason), createdAt: now })
        .onConflictDoNothing()
    },

    async listDeadLetters(limit) {
      const rows = await db.select().from(deadLetters).orderBy(asc(deadLetters.id)).limit(limit)
      return rows.map(deadLetterOf)
    },

    async deadLetterById(id) {
      const [row] = await db.select().from(deadLetters).where(eq(deadLetters.id, id))
      return row ? deadLetterOf(row) : undefined
    },

    async removeDeadLetter(id) {
      const gone = await db
        .delete(deadLetters)
        .where(eq(deadLetters.id, id))
        .returning({ id: deadLetters.id })
      return gone.length > 0
    },
  }
}

async function finishOutbox(t: Tx, transferId: string, now: number): Promise<void> {
  await t
    .update(outbox)
    .set({ status: 'done', leaseUntil: null, lastError: null, updatedAt: now })
    .where(eq(outbox.id, transferOutboxId(transferId)))
}

async function markCreated(
  t: Tx,
  transferId: string,
  bank: { id: string; status: string },
  now: number,
): Promise<void> {
  await t
    .update(transfers)
    .set({
      status: 'created',
      starkId: bank.id,
      bankStatus: bank.status,
      reason: null,
      sentAt: now,
      updatedAt: now,
    })
    // Created never moves back, and keeps the Stark Bank id it was first given.
    .where(and(eq(transfers.id, transferId), ne(transfers.status, 'created')))
  await finishOutbox(t, transferId, now)
  await applyPendingTransferEvents(t, transferId, bank.id, now)
}

import { and, asc, desc, eq, inArray, ne, or, sql } from 'drizzle-orm'
import type { Fenced, RecordedEvent, Store } from '../../../ports/store.ts'
import { deadLetterOf, deadLetterRow } from '../dead-letters.ts'
import { guardSteps, postgresStep } from '../ledger-failure.ts'
import { doneOutbox } from '../outbox-claims.ts'
import { claimColumns, newClaimToken, releasedColumns, runClaimable } from '../run-claims.ts'
import * as runWrites from '../run-writes.ts'
import { transferOutboxId } from '../transfer-claims.ts'
import * as transferWrites from '../transfer-writes.ts'
import { applyPendingTransferEvents, recordIn } from './bank-events.ts'
import { independentRuns, recordCredits } from './credit-batch.ts'
import type { PgLedger, PgTx } from './database.ts'
import { deadLetters, invoices, outbox, schedulerRuns, transfers } from './schema.ts'
import { recordTransferEvents } from './transfer-event-batch.ts'
import { postgresTransferOutbox } from './transfer-outbox.ts'

/**
 * The Store on PostgreSQL, shared by any number of paybridge processes. Every step is one async
 * transaction (READ COMMITTED) with nothing but ledger statements inside. Relays claim outbox rows
 * with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never get the same row; unique keys (event id,
 * schedule slot, one transfer per invoice) make concurrent writers of the same fact collide harmlessly.
 * What the steps write is ../*-writes.ts, alike on both engines.
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
          .values(runWrites.plannedRunRow(run, now))
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
        if (run.invoices.length > 0) await t.insert(invoices).values(runWrites.plannedInvoiceRows(run, now))
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
      // One read for every run's invoices: one round trip, not one per run.
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
      return runs.map((r) =>
        runWrites.unfinishedRunOf(
          r,
          rows.filter((i) => i.runId === r.id),
        ),
      )
    },

    async claimRun(runId, now, leaseMs) {
      const token = newClaimToken()
      const claimed = await db.transaction(async (t) => {
        // FOR UPDATE: concurrent claimers of one run take turns, and each sees the one before.
        const [run] = await t
          .select(runWrites.runClaimRow(schedulerRuns))
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
      return runWrites.runClaim(token, {
        renew: async (columns) => {
          const renewed = await db
            .update(schedulerRuns)
            .set(columns)
            .where(runWrites.claimedRun(schedulerRuns, runId, token))
            .returning({ id: schedulerRuns.id })
          return renewed.length === 1
        },
        release: () =>
          db
            .update(schedulerRuns)
            .set(releasedColumns)
            .where(runWrites.releasableRun(schedulerRuns, runId, token)),
        leaseMs,
      })
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
          const adoption = runWrites.adoptionWrites(invoiceId, bankId, { holder, held }, now)
          if (adoption?.released) {
            const { transferId, outbox: row } = adoption.released
            await t
              .update(transfers)
              .set(transferWrites.releasedTransfer(now))
              .where(runWrites.skippedTransfer(transfers, transferId))
            await t.insert(outbox).values(row).onConflictDoNothing()
          }
          if (adoption) {
            await t.delete(invoices).where(eq(invoices.id, adoption.removed))
            await t.update(invoices).set(adoption.adopted).where(eq(invoices.id, invoiceId))
          }
          await t
            .update(invoices)
            .set(runWrites.issuedInvoice(bankId, now))
            .where(runWrites.plannedInvoice(invoices, invoiceId))
        }
        await t
          .update(schedulerRuns)
          .set(runWrites.issuedRun(schedulerRuns, now))
          .where(eq(schedulerRuns.id, runId))
        return { kind: 'written' }
      })
    },

    async markRunFailed(runId, error, now, outcome) {
      await db
        .update(schedulerRuns)
        .set(runWrites.failedRun(schedulerRuns, error, now, outcome))
        .where(eq(schedulerRuns.id, runId))
    },

    async lastRun() {
      const [row] = await db
        .select(runWrites.lastRunColumns(schedulerRuns))
        .from(schedulerRuns)
        .orderBy(desc(schedulerRuns.plannedAt))
        .limit(1)
      return row
    },

    async recordBankEvent(input, now) {
      return db.transaction((t) => recordIn(t, input, now))
    },

    async recordBankEvents(inputs, now) {
      // A run of independent credits is one statement per table; a run of transfer events four.
      return db.transaction(async (t) => {
        const results: RecordedEvent[] = []
        for (const run of independentRuns(inputs)) {
          if (run.kind === 'credits') results.push(...(await recordCredits(t, run.items, now)))
          else results.push(...(await recordTransferEvents(t, run.items, now)))
        }
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
          .set(transferWrites.approvedTransfer(now))
          .where(eq(transfers.id, transferId))
        await t
          .update(outbox)
          .set(transferWrites.approvedOutbox(now))
          .where(eq(outbox.id, transferOutboxId(transferId)))
        return { kind: 'approved' as const }
      })
    },

    async sentSince(since) {
      const [row] = await db
        .select({ total: sql<string>`coalesce(sum(${transfers.amount}), 0)` })
        .from(transfers)
        .where(transferWrites.sentSinceWhere(transfers, since))
      return Number(row?.total ?? 0)
    },

    async deadLetter(entry, now) {
      await db.insert(deadLetters).values(deadLetterRow(entry, now)).onConflictDoNothing()
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

/** Stark Bank created the transfer: its row (created never moves back), its outbox row done. */
async function markCreated(t: PgTx, transferId: string, bank: { id: string; status: string }, now: number) {
  await t
    .update(transfers)
    .set(transferWrites.createdTransfer(bank, now))
    // Created never moves back, and keeps the Stark Bank id it was first given.
    .where(and(eq(transfers.id, transferId), ne(transfers.status, 'created')))
  await t
    .update(outbox)
    .set(doneOutbox(now))
    .where(eq(outbox.id, transferOutboxId(transferId)))
  await applyPendingTransferEvents(t, transferId, bank.id, now)
}

import { asc, desc, eq, sql } from 'drizzle-orm'
import type { Fenced, Store } from '../../../ports/store.ts'
import { deadLetterOf, deadLetterRow } from '../dead-letters.ts'
import { guardSteps, sqliteStep } from '../ledger-failure.ts'
import { doneOutbox } from '../outbox-claims.ts'
import { claimColumns, newClaimToken, releasedColumns, runClaimable } from '../run-claims.ts'
import * as runWrites from '../run-writes.ts'
import { transferOutboxId } from '../transfer-claims.ts'
import * as transferWrites from '../transfer-writes.ts'
import { applyPendingTransferEvents, recordIn } from './bank-events.ts'
import { immediate, type Ledger } from './database.ts'
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
  const tx = immediate(db)

  return {
    async planRun(run, now) {
      return tx((t) => {
        const taken = t
          .select({ id: schedulerRuns.id })
          .from(schedulerRuns)
          .where(eq(schedulerRuns.slot, run.slot))
          .get()
        if (taken) return { kind: 'taken' as const, runId: taken.id }
        t.insert(schedulerRuns).values(runWrites.plannedRunRow(run, now)).run()
        if (run.invoices.length > 0) t.insert(invoices).values(runWrites.plannedInvoiceRows(run, now)).run()
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
      return runs.map((r) =>
        runWrites.unfinishedRunOf(
          r,
          db.select().from(invoices).where(eq(invoices.runId, r.id)).orderBy(asc(invoices.id)).all(),
        ),
      )
    },

    async claimRun(runId, now, leaseMs) {
      const token = newClaimToken()
      const claimed = tx((t) => {
        const run = t
          .select(runWrites.runClaimRow(schedulerRuns))
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
      return runWrites.runClaim(token, {
        renew: (columns) =>
          tx(
            (t) =>
              t
                .update(schedulerRuns)
                .set(columns)
                .where(runWrites.claimedRun(schedulerRuns, runId, token))
                .returning({ id: schedulerRuns.id })
                .all().length === 1,
          ),
        release: () =>
          tx((t) =>
            t
              .update(schedulerRuns)
              .set(releasedColumns)
              .where(runWrites.releasableRun(schedulerRuns, runId, token))
              .run(),
          ),
        leaseMs,
      })
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
          const adoption = runWrites.adoptionWrites(invoiceId, bankId, { holder, held }, now)
          if (adoption?.released) {
            const { transferId, outbox: row } = adoption.released
            t.update(transfers)
              .set(transferWrites.releasedTransfer(now))
              .where(runWrites.skippedTransfer(transfers, transferId))
              .run()
            t.insert(outbox).values(row).onConflictDoNothing().run()
          }
          if (adoption) {
            t.delete(invoices).where(eq(invoices.id, adoption.removed)).run()
            t.update(invoices).set(adoption.adopted).where(eq(invoices.id, invoiceId)).run()
          }
          t.update(invoices)
            .set(runWrites.issuedInvoice(bankId, now))
            .where(runWrites.plannedInvoice(invoices, invoiceId))
            .run()
        }
        t.update(schedulerRuns)
          .set(runWrites.issuedRun(schedulerRuns, now))
          .where(eq(schedulerRuns.id, runId))
          .run()
        return { kind: 'written' }
      })
    },

    async markRunFailed(runId, error, now, outcome) {
      tx((t) =>
        t
          .update(schedulerRuns)
          .set(runWrites.failedRun(schedulerRuns, error, now, outcome))
          .where(eq(schedulerRuns.id, runId))
          .run(),
      )
    },

    async lastRun() {
      return db
        .select(runWrites.lastRunColumns(schedulerRuns))
        .from(schedulerRuns)
        .orderBy(desc(schedulerRuns.plannedAt))
        .limit(1)
        .get()
    },

    async recordBankEvent(input, now) {
      return tx(() => recordIn(st, input, now))
    },

    async recordBankEvents(inputs, now) {
      // One commit for a whole receive: the commit, not the inserts, is what costs.
      return tx(() => inputs.map((input) => recordIn(st, input, now)))
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
          .set(transferWrites.approvedTransfer(now))
          .where(eq(transfers.id, transferId))
          .run()
        t.update(outbox)
          .set(transferWrites.approvedOutbox(now))
          .where(eq(outbox.id, transferOutboxId(transferId)))
          .run()
        return { kind: 'approved' as const }
      })
    },

    async sentSince(since) {
      const row = db
        .select({ total: sql<number>`coalesce(sum(${transfers.amount}), 0)` })
        .from(transfers)
        .where(transferWrites.sentSinceWhere(transfers, since))
        .get()
      return Number(row?.total ?? 0)
    },

    async deadLetter(entry, now) {
      tx((t) => t.insert(deadLetters).values(deadLetterRow(entry, now)).onConflictDoNothing().run())
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
  st.markTransferCreated.run({ id: transferId, ...transferWrites.createdTransfer(bank, now) })
  st.outboxDone.run({ id: transferOutboxId(transferId), ...doneOutbox(now) })
  applyPendingTransferEvents(st, transferId, bank.id, now)
}

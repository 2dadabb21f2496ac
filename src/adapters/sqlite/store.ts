import { and, asc, desc, eq, gte, sql } from 'drizzle-orm'
import { invoiceTag, type PlannedInvoice, runTag } from '../../domain/invoice-batch.ts'
import { type TransferPlan, transferIdFor } from '../../domain/transfer.ts'
import type { RunClaim, Store } from '../../ports/store.ts'
import { transferOutboxId } from '../transfer-claims.ts'
import type { Ledger } from './database.ts'
import { type HotStatements, hotStatements } from './hot-statements.ts'
import { claimantAlive, processClaimant } from './run-claim.ts'
import { deadLetters, invoices, outbox, schedulerRuns, transfers } from './schema.ts'
import { sqliteTransferOutbox } from './transfer-outbox.ts'

/**
 * The Store on bun:sqlite. Every step is one synchronous IMMEDIATE transaction (bun:sqlite commits an
 * async callback at its first await, so no transaction here awaits; the methods are async only to
 * fit the port), which also serialises writers across processes sharing the file.
 */
export function sqliteStore(ledger: Ledger): Store {
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
        return { id: r.id, slot: r.slot, attempts: r.attempts, invoices: planned }
      })
    },

    async claimRun(runId, now, leaseMs) {
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
        if (run?.status !== 'planned') return false
        const held =
          run.claimedBy !== null &&
          (run.claimedUntil ?? 0) > now &&
          claimantAlive(run.claimedBy, processClaimant)
        if (held) return false
        t.update(schedulerRuns)
          .set({ claimedBy: processClaimant, claimedUntil: now + leaseMs })
          .where(eq(schedulerRuns.id, runId))
          .run()
        return true
      })
      if (!claimed) return undefined
      const claim: RunClaim = {
        async release() {
          tx((t) =>
            t
              .update(schedulerRuns)
              .set({ claimedBy: null, claimedUntil: null })
              .where(and(eq(schedulerRuns.id, runId), eq(schedulerRuns.claimedBy, processClaimant)))
              .run(),
          )
        },
      }
      return claim
    },

    async markRunIssued(runId, issued, now) {
      tx((t) => {
        for (const { invoiceId, bankId } of issued) {
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
      })
    },

    async markRunFailed(runId, error, now) {
      void now
      tx((t) =>
        t
          .update(schedulerRuns)
          .set({ attempts: sql`${schedulerRuns.attempts} + 1`, lastError: error.slice(0, 1000) })
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

    ...sqliteTransferOutbox({ tx, st, markCreated }),

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
  }
}

type Tx = Ledger['db']

function addTransfer(
  st: HotStatements,
  plan: TransferPlan,
  invoiceId: string,
  eventId: string,
  now: number,
): void {
  // One transfer per invoice: a second credited event for the same invoice finds the row taken.
  const added = st.insertTransfer.all({
    id: plan.externalId,
    invoiceStarkId: invoiceId,
    eventId,
    amount: plan.amount,
    request: JSON.stringify(plan),
    now,
  })
  if (added.length === 0) return
  st.insertOutbox.run({
    id: transferOutboxId(plan.externalId),
    kind: 'transfer',
    refId: plan.externalId,
    now,
  })
}

type RecordInput = Parameters<Store['recordBankEvent']>[0]
type Recorded = Awaited<ReturnType<Store['recordBankEvent']>>

/** One event's inbox row and its effects, inside the caller's transaction. */
function recordIn(
  t: Tx,
  st: HotStatements,
  { event, payload, decision, transfer }: RecordInput,
  now: number,
): Recorded {
  const subjectId = event.log.invoice?.id ?? event.log.transfer?.id ?? null
  const outcome =
    decision.kind === 'credit'
      ? `transfer of ${decision.credited} planned`
      : decision.kind === 'no-transfer' || decision.kind === 'ignore'
        ? decision.reason
        : `transfer ${decision.transferId} is ${decision.status}`
  const inserted = st.insertEvent.all({
    id: event.id,
    source: 'starkbank',
    subscription: event.subscription,
    type: event.log.type,
    subjectId,
    outcome,
    payload,
    now,
  })
  if (inserted.length === 0) return { kind: 'duplicate' as const }

  switch (decision.kind) {
    case 'credit':
    case 'no-transfer': {
      const fee = decision.fee
      const updated = st.creditInvoice.all({ fee, now, starkId: decision.invoiceId })
      if (updated.length === 0) {
        // Credited invoices paybridge did not issue are still paid out; keep a row for the ledger.
        const inv = event.log.invoice
        t.insert(invoices)
          .values({
            id: `external-${decision.invoiceId}`,
            starkId: decision.invoiceId,
            amount: decision.amount,
            name: (inv as { name?: string } | undefined)?.name ?? '',
            taxId: (inv as { taxId?: string } | undefined)?.taxId ?? '',
            status: 'credited',
            fee,
            creditedAt: now,
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoNothing()
          .run()
      }
      if (decision.kind === 'no-transfer') {
        t.insert(transfers)
          .values({
            id: transferIdFor(decision.invoiceId),
            invoiceStarkId: decision.invoiceId,
            eventId: event.id,
            amount: decision.amount - decision.fee,
            status: 'skipped',
            request: '{}',
            reason: decision.reason,
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoNothing()
          .run()
        break
      }
      if (!transfer) throw new Error(`credit of ${decision.invoiceId} recorded without a transfer plan`)
      addTransfer(st, transfer, decision.invoiceId, event.id, now)
      break
    }
    case 'transfer-update':
      t.update(transfers)
        .set({ bankStatus: decision.status, updatedAt: now })
        .where(eq(transfers.starkId, decision.transferId))
        .run()
      break
    case 'ignore':
      break
  }
  return { kind: 'recorded' as const }
}

function markCreated(
  st: HotStatements,
  transferId: string,
  bank: { id: string; status: string },
  now: number,
): void {
  st.markTransferCreated.run({ id: transferId, starkId: bank.id, bankStatus: bank.status, now })
  st.outboxDone.run({ id: transferOutboxId(transferId), now })
}

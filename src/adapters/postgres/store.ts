import { and, asc, desc, eq, gte, inArray, isNull, ne, or, sql } from 'drizzle-orm'
import { type CreditDecision, transferUpdateIn } from '../../domain/bank-event.ts'
import { adoptionFor, settleCredit } from '../../domain/credit.ts'
import { invoiceTag, type PlannedInvoice, runTag } from '../../domain/invoice-batch.ts'
import { type TransferPlan, transferIdFor } from '../../domain/transfer.ts'
import { settleTransferEvent } from '../../domain/transfer-status.ts'
import type { RecordedEvent, Store } from '../../ports/store.ts'
import { guardSteps, postgresStep } from '../ledger-failure.ts'
import { transferOutboxId } from '../transfer-claims.ts'
import type { PgDb, PgLedger } from './database.ts'
import { claimRunLock } from './run-lock.ts'
import { deadLetters, events, invoices, outbox, schedulerRuns, transfers } from './schema.ts'
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
        return { id: r.id, slot: r.slot, attempts: r.attempts, invoices: planned }
      })
    },

    claimRun: (runId) => claimRunLock(ledger, runId),

    async markRunIssued(runId, issued, now) {
      await db.transaction(async (t) => {
        for (const { invoiceId, bankId } of issued) {
          const [holder] = await t.select().from(invoices).where(eq(invoices.starkId, bankId)).for('update')
          if (holder && adoptionFor(invoiceId, bankId, holder) === 'adopt') {
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
      })
    },

    async markRunFailed(runId, error) {
      await db
        .update(schedulerRuns)
        .set({ attempts: sql`${schedulerRuns.attempts} + 1`, lastError: clip(error) })
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
  }
}

async function addTransfer(
  t: Tx,
  plan: TransferPlan,
  invoiceId: string,
  eventId: string,
  now: number,
): Promise<void> {
  // One transfer per invoice: a second credited event for the same invoice finds the row taken.
  const added = await t
    .insert(transfers)
    .values({
      id: plan.externalId,
      invoiceStarkId: invoiceId,
      eventId,
      amount: plan.amount,
      status: 'pending',
      request: JSON.stringify(plan),
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: transfers.id })
  if (added.length === 0) return
  await t.insert(outbox).values({
    id: transferOutboxId(plan.externalId),
    kind: 'transfer',
    refId: plan.externalId,
    status: 'pending',
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  })
}

async function finishOutbox(t: Tx, transferId: string, now: number): Promise<void> {
  await t
    .update(outbox)
    .set({ status: 'done', leaseUntil: null, lastError: null, updatedAt: now })
    .where(eq(outbox.id, transferOutboxId(transferId)))
}

type RecordInput = Parameters<Store['recordBankEvent']>[0]

const invoiceFacts = {
  id: invoices.id,
  status: invoices.status,
  runId: invoices.runId,
  creditedAmount: invoices.creditedAmount,
  fee: invoices.fee,
}
const transferRef = { id: transfers.id, starkId: transfers.starkId, bankStatus: transfers.bankStatus }

/**
 * One event's inbox row and its effects, inside the caller's transaction: the ledger facts are read
 * (the invoice row locked, so two workers with credits of one invoice take turns), the domain settles
 * what the event does, and the event row records that outcome with what it wrote.
 */
async function recordIn(
  t: Tx,
  { event, payload, decision, transfer }: RecordInput,
  now: number,
): Promise<RecordedEvent> {
  const subjectId = event.log.invoice?.id ?? event.log.transfer?.id ?? null
  // Two workers with the same event: the second insert waits for the first commit, then does nothing.
  const insertEvent = async (outcome: string, flag: 'anomaly' | 'unmatched' | null, refId: string | null) =>
    (
      await t
        .insert(events)
        .values({
          id: event.id,
          source: 'starkbank',
          subscription: event.subscription,
          type: event.log.type,
          subjectId,
          outcome,
          flag,
          refId,
          payload,
          receivedAt: now,
        })
        .onConflictDoNothing()
        .returning({ id: events.id })
    ).length > 0

  switch (decision.kind) {
    case 'credit':
    case 'no-transfer': {
      const [byStarkId] = await t
        .select(invoiceFacts)
        .from(invoices)
        .where(eq(invoices.starkId, decision.invoiceId))
        .for('update')
      const [byTag] =
        byStarkId || decision.plannedId === null
          ? []
          : await t
              .select(invoiceFacts)
              .from(invoices)
              .where(and(eq(invoices.id, decision.plannedId), isNull(invoices.starkId)))
              .for('update')
      let settled = settleCredit(decision, { byStarkId, byTag })
      if (settled.kind === 'first' && !(await creditRow(t, settled.invoice, decision, event, now))) {
        // Another worker credited this invoice first (its row appeared meanwhile): this credit is later.
        const [holder] = await t
          .select(invoiceFacts)
          .from(invoices)
          .where(eq(invoices.starkId, decision.invoiceId))
        settled = settleCredit(decision, { byStarkId: holder })
      }
      if (!(await insertEvent(settled.outcome, settled.kind === 'later' ? 'anomaly' : null, null))) {
        if (settled.kind === 'first')
          throw new Error(`event ${event.id} credited an invoice, then was a duplicate`)
        return { kind: 'duplicate' }
      }
      if (settled.kind === 'later') return { kind: 'recorded', effect: 'anomaly', outcome: settled.outcome }
      if (settled.payout.kind === 'skip') {
        await t
          .insert(transfers)
          .values({
            id: transferIdFor(decision.invoiceId),
            invoiceStarkId: decision.invoiceId,
            eventId: event.id,
            amount: decision.amount - decision.fee,
            status: 'skipped',
            request: '{}',
            reason: settled.payout.reason,
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoNothing()
        return { kind: 'recorded', effect: 'not-paid', outcome: settled.outcome }
      }
      if (!transfer) throw new Error(`credit of ${decision.invoiceId} recorded without a transfer plan`)
      await addTransfer(t, transfer, decision.invoiceId, event.id, now)
      return { kind: 'recorded', effect: 'transfer-planned', outcome: settled.outcome }
    }
    case 'transfer-update': {
      const [byStarkId] = await t
        .select(transferRef)
        .from(transfers)
        .where(eq(transfers.starkId, decision.transferId))
        .limit(1)
        .for('update')
      const [byId] =
        byStarkId || decision.externalId === null
          ? []
          : await t
              .select(transferRef)
              .from(transfers)
              .where(eq(transfers.id, decision.externalId))
              .for('update')
      const settled = settleTransferEvent(decision, byStarkId ?? byId)
      const flag = settled.kind === 'apply' ? null : settled.kind
      if (!(await insertEvent(settled.outcome, flag, decision.externalId))) return { kind: 'duplicate' }
      if (settled.kind !== 'apply')
        return { kind: 'recorded', effect: settled.kind, outcome: settled.outcome }
      await t
        .update(transfers)
        .set({ bankStatus: settled.bankStatus, updatedAt: now })
        .where(eq(transfers.id, settled.transferId))
      return { kind: 'recorded', effect: 'status', outcome: settled.outcome }
    }
    case 'ignore':
      if (!(await insertEvent(decision.reason, null, null))) return { kind: 'duplicate' }
      return { kind: 'recorded', effect: 'nothing', outcome: decision.reason }
  }
}

/** The first credit on its invoice row; false when a concurrent credit took the row first. */
async function creditRow(
  t: Tx,
  target: { kind: 'known' | 'adopted' | 'external'; id: string },
  decision: CreditDecision,
  event: RecordInput['event'],
  now: number,
): Promise<boolean> {
  const credit = {
    status: 'credited' as const,
    fee: decision.fee,
    creditedAmount: decision.amount,
    creditedAt: now,
    updatedAt: now,
  }
  if (target.kind !== 'external') {
    const updated = await t
      .update(invoices)
      .set({ ...credit, starkId: decision.invoiceId })
      .where(and(eq(invoices.id, target.id), ne(invoices.status, 'credited')))
      .returning({ id: invoices.id })
    return updated.length > 0
  }
  const inv = event.log.invoice as { name?: string; taxId?: string } | undefined
  const inserted = await t
    .insert(invoices)
    .values({
      id: target.id,
      starkId: decision.invoiceId,
      amount: decision.amount,
      name: inv?.name ?? '',
      taxId: inv?.taxId ?? '',
      createdAt: now,
      ...credit,
    })
    .onConflictDoNothing()
    .returning({ id: invoices.id })
  return inserted.length > 0
}

/**
 * Applies the transfer events that arrived before the transfer was created (kept `unmatched`), in
 * the caller's transaction, once the transfer has its Stark Bank id.
 */
async function applyPendingTransferEvents(
  t: Tx,
  transferId: string,
  starkId: string,
  now: number,
): Promise<void> {
  const pending = await t
    .select({ id: events.id, payload: events.payload })
    .from(events)
    .where(and(eq(events.flag, 'unmatched'), or(eq(events.subjectId, starkId), eq(events.refId, transferId))))
    .orderBy(asc(events.receivedAt), asc(events.id))
  if (pending.length === 0) return
  let [row] = await t.select(transferRef).from(transfers).where(eq(transfers.id, transferId))
  for (const e of pending) {
    const update = transferUpdateIn(e.payload)
    if (!update || !row) continue
    const settled = settleTransferEvent(update, row)
    if (settled.kind === 'unmatched') continue
    await t
      .update(events)
      .set({
        flag: settled.kind === 'anomaly' ? 'anomaly' : null,
        outcome: `${settled.outcome} (applied when the transfer was created)`,
      })
      .where(eq(events.id, e.id))
    if (settled.kind === 'apply') {
      await t
        .update(transfers)
        .set({ bankStatus: settled.bankStatus, updatedAt: now })
        .where(eq(transfers.id, transferId))
      row = { ...row, bankStatus: settled.bankStatus }
    }
  }
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

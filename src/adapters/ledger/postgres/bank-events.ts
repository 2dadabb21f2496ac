import { and, asc, eq, isNull, ne, or } from 'drizzle-orm'
import { type CreditDecision, transferUpdateIn } from '../../../domain/bank-event.ts'
import { settleCredit } from '../../../domain/credit.ts'
import { type TransferPlan, transferIdFor } from '../../../domain/transfer.ts'
import { settleTransferEvent } from '../../../domain/transfer-status.ts'
import type { RecordedEvent, Store } from '../../../ports/store.ts'
import { transferOutboxId } from '../transfer-claims.ts'
import type { PgDb } from './database.ts'
import { events, invoices, outbox, transfers } from './schema.ts'

// How the PostgreSQL ledger records Stark Bank events: the steps inside the caller's transaction; the
// decisions are the domain's (settleCredit, settleTransferEvent).

type Tx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

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
export async function recordIn(
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
      if (!(await insertEvent(settled.outcome, settled.kind === 'later' ? 'anomaly' : settled.flag, null))) {
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
            // The plan is kept: a resume that adopts this invoice as paybridge's releases it as is.
            request: transfer ? JSON.stringify(transfer) : '{}',
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
export async function applyPendingTransferEvents(
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

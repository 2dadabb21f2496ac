import { and, asc, eq, isNull, ne, or, type SQL } from 'drizzle-orm'
import type { CreditDecision } from '../../../domain/bank-event.ts'
import { settleCredit } from '../../../domain/credit.ts'
import { applyKeptEvents, settleTransferEvent } from '../../../domain/transfer-status.ts'
import type { RecordedEvent } from '../../../ports/store.ts'
import * as bankWrites from '../bank-event-writes.ts'
import type { PgTx } from './database.ts'
import { events, invoices, outbox, transfers } from './schema.ts'

// How the PostgreSQL ledger records Stark Bank events: the steps inside the caller's transaction,
// with the row locks that make concurrent workers take turns; what they write is
// ../bank-event-writes.ts, the decisions are the domain's.

const invoiceFacts = bankWrites.invoiceFactColumns(invoices)
const transferRef = bankWrites.transferRefColumns(transfers)

/**
 * One event's inbox row and its effects, inside the caller's transaction: the ledger facts are read
 * (the invoice row locked, so two workers with credits of one invoice take turns), the domain settles
 * what the event does, and the event row records that outcome with what it wrote.
 */
export async function recordIn(t: PgTx, input: bankWrites.RecordInput, now: number): Promise<RecordedEvent> {
  const { decision } = input
  // Two workers with the same event: the second insert waits for the first commit, then does nothing.
  const insertInbox = async (outcome: string, flag: bankWrites.InboxFlag, refId: string | null) => {
    const row = bankWrites.bankInboxRow(input, outcome, flag, refId, now)
    return (await t.insert(events).values(row).onConflictDoNothing().returning({ id: events.id })).length > 0
  }
  const invoiceBy = (where: SQL | undefined) => t.select(invoiceFacts).from(invoices).where(where)

  switch (decision.kind) {
    case 'credit':
    case 'no-transfer': {
      const [byStarkId] = await invoiceBy(eq(invoices.starkId, decision.invoiceId)).for('update')
      const [byTag] =
        byStarkId || decision.plannedId === null
          ? []
          : await invoiceBy(and(eq(invoices.id, decision.plannedId), isNull(invoices.starkId))).for('update')
      let settled = settleCredit(decision, { byStarkId, byTag })
      if (settled.kind === 'first' && !(await creditRow(t, settled.invoice, input, decision, now))) {
        // Another worker credited this invoice first (its row appeared meanwhile): this credit is later.
        const [holder] = await invoiceBy(eq(invoices.starkId, decision.invoiceId))
        settled = settleCredit(decision, { byStarkId: holder })
      }
      if (!(await insertInbox(settled.outcome, bankWrites.creditFlag(settled), null))) {
        if (settled.kind === 'first')
          throw new Error(`event ${input.event.id} credited an invoice, then was a duplicate`)
        return { kind: 'duplicate' }
      }
      if (settled.kind === 'later') return bankWrites.recordedCredit(settled)
      if (settled.payout.kind === 'skip') {
        const row = bankWrites.skippedTransferRow(input, decision, settled.payout.reason, now)
        await t.insert(transfers).values(row).onConflictDoNothing()
      } else {
        const planned = bankWrites.plannedTransferRows(input, decision, now)
        const added = await t
          .insert(transfers)
          .values(planned.transfer)
          .onConflictDoNothing()
          .returning({ id: transfers.id })
        if (added.length > 0) await t.insert(outbox).values(planned.outbox)
      }
      return bankWrites.recordedCredit(settled)
    }
    case 'transfer-update': {
      const transferBy = (where: SQL | undefined) => t.select(transferRef).from(transfers).where(where)
      const [byStarkId] = await transferBy(eq(transfers.starkId, decision.transferId)).limit(1).for('update')
      const [byId] =
        byStarkId || decision.externalId === null
          ? []
          : await transferBy(eq(transfers.id, decision.externalId)).for('update')
      const settled = settleTransferEvent(decision, byStarkId ?? byId)
      if (!(await insertInbox(settled.outcome, bankWrites.transferEventFlag(settled), decision.externalId)))
        return { kind: 'duplicate' }
      if (settled.kind === 'apply')
        await t
          .update(transfers)
          .set(bankWrites.bankStatusColumns(settled.bankStatus, now))
          .where(eq(transfers.id, settled.transferId))
      return bankWrites.recordedTransferEvent(settled)
    }
    case 'ignore':
      if (!(await insertInbox(decision.reason, null, null))) return { kind: 'duplicate' }
      return { kind: 'recorded', effect: 'nothing', outcome: decision.reason }
  }
}

/** The first credit on its invoice row; false when a concurrent credit took the row first. */
async function creditRow(
  t: PgTx,
  target: { kind: 'known' | 'adopted' | 'external'; id: string },
  input: bankWrites.RecordInput,
  decision: CreditDecision,
  now: number,
): Promise<boolean> {
  const written =
    target.kind === 'external'
      ? t
          .insert(invoices)
          .values(bankWrites.externalInvoiceRow(target.id, input, decision, now))
          .onConflictDoNothing()
          .returning({ id: invoices.id })
      : t
          .update(invoices)
          .set(bankWrites.creditedInvoice(decision, now))
          .where(and(eq(invoices.id, target.id), ne(invoices.status, 'credited')))
          .returning({ id: invoices.id })
  return (await written).length > 0
}

/**
 * Applies the transfer events that arrived before the transfer was created (kept `unmatched`), in
 * the caller's transaction, once the transfer has its Stark Bank id.
 */
export async function applyPendingTransferEvents(t: PgTx, transferId: string, starkId: string, now: number) {
  const kept = await t
    .select({ id: events.id, payload: events.payload })
    .from(events)
    .where(and(eq(events.flag, 'unmatched'), or(eq(events.subjectId, starkId), eq(events.refId, transferId))))
    .orderBy(asc(events.receivedAt), asc(events.id))
  if (kept.length === 0) return
  const [row] = await t.select(transferRef).from(transfers).where(eq(transfers.id, transferId))
  const applied = applyKeptEvents(kept, row)
  for (const { id, ...resolution } of applied.resolved)
    await t.update(events).set(resolution).where(eq(events.id, id))
  if (applied.bankStatus !== undefined)
    await t
      .update(transfers)
      .set(bankWrites.bankStatusColumns(applied.bankStatus, now))
      .where(eq(transfers.id, transferId))
}

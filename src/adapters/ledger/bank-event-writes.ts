import type { Column } from 'drizzle-orm'
import type { CreditDecision } from '../../domain/bank-event.ts'
import type { CreditSettlement } from '../../domain/credit.ts'
import { type TransferPlan, transferIdFor } from '../../domain/transfer.ts'
import type { TransferEventSettlement } from '../../domain/transfer-status.ts'
import type { RecordedEvent, Store } from '../../ports/store.ts'
import { columnsOf } from './columns.ts'
import { pendingOutboxRow } from './outbox-claims.ts'
import { transferOutboxId } from './transfer-claims.ts'

// What both ledgers write when they record a Stark Bank event, once: the inbox row, the credited
// invoice, the transfer planned (with its outbox row) or kept unpaid, and what the step answers.
// The decisions are the domain's (settleCredit, settleTransferEvent); the engines read the facts and
// run the statements.

export type RecordInput = Parameters<Store['recordBankEvent']>[0]
export type InboxFlag = 'anomaly' | 'unmatched' | null

/** A Stark Bank event's inbox row, with the outcome it had, its flag and (transfer events) externalId. */
export function bankInboxRow(
  { event, payload }: RecordInput,
  outcome: string,
  flag: InboxFlag,
  refId: string | null,
  now: number,
) {
  return {
    id: event.id,
    source: 'starkbank' as const,
    subscription: event.subscription,
    type: event.log.type,
    subjectId: event.log.invoice?.id ?? event.log.transfer?.id ?? null,
    outcome,
    flag,
    refId,
    payload,
    receivedAt: now,
  }
}

/** The inbox flag of a settled credit: a later credit is an anomaly. */
export const creditFlag = (settled: CreditSettlement): InboxFlag =>
  settled.kind === 'later' ? 'anomaly' : settled.flag

/** The columns the first credit writes on its invoice row (which takes the Stark Bank id). */
export const creditedInvoice = (decision: CreditDecision, now: number) => ({
  status: 'credited' as const,
  starkId: decision.invoiceId,
  fee: decision.fee,
  creditedAmount: decision.amount,
  creditedAt: now,
  updatedAt: now,
})

/** The row of an invoice paybridge did not issue, made by its first credit. */
export function externalInvoiceRow(
  id: string,
  { event }: RecordInput,
  decision: CreditDecision,
  now: number,
) {
  const inv = event.log.invoice as { name?: string; taxId?: string } | undefined
  return {
    id,
    amount: decision.amount,
    name: inv?.name ?? '',
    taxId: inv?.taxId ?? '',
    createdAt: now,
    ...creditedInvoice(decision, now),
  }
}

/** The transfer a credit that is not paid out keeps, with why. */
export function skippedTransferRow(
  { event, transfer }: RecordInput,
  decision: CreditDecision,
  reason: string,
  now: number,
) {
  return {
    id: transferIdFor(decision.invoiceId),
    invoiceStarkId: decision.invoiceId,
    eventId: event.id,
    amount: decision.amount - decision.fee,
    status: 'skipped' as const,
    // The plan is kept: a resume that adopts this invoice as paybridge's releases it as is.
    request: transfer ? JSON.stringify(transfer) : '{}',
    reason,
    createdAt: now,
    updatedAt: now,
  }
}

/** The transfer a first credit plans and its outbox row (one transfer per invoice: its id says so). */
export function plannedTransferRows({ event, transfer }: RecordInput, decision: CreditDecision, now: number) {
  if (!transfer) throw new Error(`credit of ${decision.invoiceId} recorded without a transfer plan`)
  const plan: TransferPlan = transfer
  return {
    transfer: {
      id: plan.externalId,
      invoiceStarkId: decision.invoiceId,
      eventId: event.id,
      amount: plan.amount,
      status: 'pending' as const,
      request: JSON.stringify(plan),
      createdAt: now,
      updatedAt: now,
    },
    outbox: pendingOutboxRow(transferOutboxId(plan.externalId), 'transfer', plan.externalId, now),
  }
}

/** What recording a credit answers, once its rows are written. */
export function recordedCredit(settled: CreditSettlement): RecordedEvent {
  if (settled.kind === 'later') return { kind: 'recorded', effect: 'anomaly', outcome: settled.outcome }
  const effect = settled.payout.kind === 'skip' ? 'not-paid' : 'transfer-planned'
  return { kind: 'recorded', effect, outcome: settled.outcome }
}

/** The inbox flag of a settled transfer event. */
export const transferEventFlag = (settled: TransferEventSettlement): InboxFlag =>
  settled.kind === 'apply' ? null : settled.kind

/** What recording a transfer event answers. */
export const recordedTransferEvent = (settled: TransferEventSettlement): RecordedEvent => ({
  kind: 'recorded',
  effect: settled.kind === 'apply' ? 'status' : settled.kind,
  outcome: settled.outcome,
})

/** The columns of a transfer taking a Stark Bank status. */
export const bankStatusColumns = (bankStatus: string, now: number) => ({ bankStatus, updatedAt: now })

/** What settling a credit reads of an invoice row (a LedgerInvoice), from either engine's `invoices`. */
export const invoiceFactColumns = <
  I extends Record<'id' | 'status' | 'runId' | 'creditedAmount' | 'fee', Column>,
>(
  invoices: I,
) => columnsOf(invoices, 'id', 'status', 'runId', 'creditedAmount', 'fee')

/** What settling a transfer event reads of a transfer row (a LedgerTransferRef). */
export const transferRefColumns = <T extends Record<'id' | 'starkId' | 'bankStatus', Column>>(transfers: T) =>
  columnsOf(transfers, 'id', 'starkId', 'bankStatus')

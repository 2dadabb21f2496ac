import { transferUpdateIn } from '../../../domain/bank-event.ts'
import { settleCredit } from '../../../domain/credit.ts'
import { type TransferPlan, transferIdFor } from '../../../domain/transfer.ts'
import { settleTransferEvent } from '../../../domain/transfer-status.ts'
import type { RecordedEvent, Store } from '../../../ports/store.ts'
import { transferOutboxId } from '../transfer-claims.ts'
import type { Ledger } from './database.ts'
import type { HotStatements } from './hot-statements.ts'
import { invoices, transfers } from './schema.ts'

// How the SQLite ledger records Stark Bank events: the steps inside the caller's transaction; the
// decisions are the domain's (settleCredit, settleTransferEvent).

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

/**
 * One event's inbox row and its effects, inside the caller's transaction: the ledger facts are read,
 * the domain settles what the event does, and the event row records that outcome with what it wrote.
 */
export function recordIn(
  t: Tx,
  st: HotStatements,
  { event, payload, decision, transfer }: RecordInput,
  now: number,
): RecordedEvent {
  const subjectId = event.log.invoice?.id ?? event.log.transfer?.id ?? null
  const insertEvent = (outcome: string, flag: 'anomaly' | 'unmatched' | null, refId: string | null) =>
    st.insertBankEvent.all({
      id: event.id,
      subscription: event.subscription,
      type: event.log.type,
      subjectId,
      outcome,
      flag,
      refId,
      payload,
      now,
    }).length > 0

  switch (decision.kind) {
    case 'credit':
    case 'no-transfer': {
      const byStarkId = st.invoiceByStarkId.get({ starkId: decision.invoiceId })
      const byTag =
        byStarkId || decision.plannedId === null
          ? undefined
          : st.plannedInvoice.get({ id: decision.plannedId })
      const settled = settleCredit(decision, { byStarkId, byTag })
      if (!insertEvent(settled.outcome, settled.kind === 'later' ? 'anomaly' : settled.flag, null))
        return { kind: 'duplicate' }
      if (settled.kind === 'later') return { kind: 'recorded', effect: 'anomaly', outcome: settled.outcome }
      if (settled.invoice.kind === 'external') {
        const inv = event.log.invoice as { name?: string; taxId?: string } | undefined
        t.insert(invoices)
          .values({
            id: settled.invoice.id,
            starkId: decision.invoiceId,
            amount: decision.amount,
            name: inv?.name ?? '',
            taxId: inv?.taxId ?? '',
            status: 'credited',
            fee: decision.fee,
            creditedAmount: decision.amount,
            creditedAt: now,
            createdAt: now,
            updatedAt: now,
          })
          .run()
      } else {
        st.creditInvoice.run({
          id: settled.invoice.id,
          starkId: decision.invoiceId,
          fee: decision.fee,
          amount: decision.amount,
          now,
        })
      }
      if (settled.payout.kind === 'skip') {
        t.insert(transfers)
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
          .run()
        return { kind: 'recorded', effect: 'not-paid', outcome: settled.outcome }
      }
      if (!transfer) throw new Error(`credit of ${decision.invoiceId} recorded without a transfer plan`)
      addTransfer(st, transfer, decision.invoiceId, event.id, now)
      return { kind: 'recorded', effect: 'transfer-planned', outcome: settled.outcome }
    }
    case 'transfer-update': {
      const row =
        st.transferByStarkId.get({ starkId: decision.transferId }) ??
        (decision.externalId === null ? undefined : st.transferById.get({ id: decision.externalId }))
      const settled = settleTransferEvent(decision, row)
      const flag = settled.kind === 'apply' ? null : settled.kind
      if (!insertEvent(settled.outcome, flag, decision.externalId)) return { kind: 'duplicate' }
      if (settled.kind !== 'apply')
        return { kind: 'recorded', effect: settled.kind, outcome: settled.outcome }
      st.setBankStatus.run({ id: settled.transferId, bankStatus: settled.bankStatus, now })
      return { kind: 'recorded', effect: 'status', outcome: settled.outcome }
    }
    case 'ignore':
      if (!insertEvent(decision.reason, null, null)) return { kind: 'duplicate' }
      return { kind: 'recorded', effect: 'nothing', outcome: decision.reason }
  }
}

/**
 * Applies the transfer events that arrived before the transfer was created (kept `unmatched`), in
 * the caller's transaction, once the transfer has its Stark Bank id.
 */
export function applyPendingTransferEvents(
  st: HotStatements,
  transferId: string,
  starkId: string,
  now: number,
): void {
  const pending = st.pendingTransferEvents.all({ starkId, transferId })
  if (pending.length === 0) return
  let row = st.transferById.get({ id: transferId })
  for (const e of pending) {
    const update = transferUpdateIn(e.payload)
    if (!update || !row) continue
    const settled = settleTransferEvent(update, row)
    if (settled.kind === 'unmatched') continue
    st.resolveEvent.run({
      id: e.id,
      flag: settled.kind === 'anomaly' ? 'anomaly' : null,
      outcome: `${settled.outcome} (applied when the transfer was created)`,
    })
    if (settled.kind === 'apply') {
      st.setBankStatus.run({ id: transferId, bankStatus: settled.bankStatus, now })
      row = { ...row, bankStatus: settled.bankStatus }
    }
  }
}

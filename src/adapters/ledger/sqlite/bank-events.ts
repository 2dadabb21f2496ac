import { settleCredit } from '../../../domain/credit.ts'
import { applyKeptEvents, settleTransferEvent } from '../../../domain/transfer-status.ts'
import type { RecordedEvent } from '../../../ports/store.ts'
import * as bankWrites from '../bank-event-writes.ts'
import type { HotStatements } from './hot-statements.ts'

// How the SQLite ledger records Stark Bank events: the steps inside the caller's transaction, on the
// prepared statements; what they write is ../bank-event-writes.ts, the decisions are the domain's.

/**
 * One event's inbox row and its effects, inside the caller's transaction: the ledger facts are read,
 * the domain settles what the event does, and the event row records that outcome with what it wrote.
 * The single writer sees every fact as it stands, so a settled first credit is the first.
 */
export function recordIn(st: HotStatements, input: bankWrites.RecordInput, now: number): RecordedEvent {
  const { decision } = input
  const insertInbox = (outcome: string, flag: bankWrites.InboxFlag, refId: string | null) =>
    st.insertInbox.all(bankWrites.bankInboxRow(input, outcome, flag, refId, now)).length > 0

  switch (decision.kind) {
    case 'credit':
    case 'no-transfer': {
      const byStarkId = st.invoiceByStarkId.get({ starkId: decision.invoiceId })
      const byTag =
        byStarkId || decision.plannedId === null
          ? undefined
          : st.plannedInvoice.get({ id: decision.plannedId })
      const settled = settleCredit(decision, { byStarkId, byTag })
      if (!insertInbox(settled.outcome, bankWrites.creditFlag(settled), null)) return { kind: 'duplicate' }
      if (settled.kind === 'later') return bankWrites.recordedCredit(settled)
      if (settled.invoice.kind === 'external')
        st.insertExternalInvoice.run(bankWrites.externalInvoiceRow(settled.invoice.id, input, decision, now))
      else st.creditInvoice.run({ id: settled.invoice.id, ...bankWrites.creditedInvoice(decision, now) })
      if (settled.payout.kind === 'skip') {
        st.insertSkippedTransfer.run(
          bankWrites.skippedTransferRow(input, decision, settled.payout.reason, now),
        )
      } else {
        const planned = bankWrites.plannedTransferRows(input, decision, now)
        if (st.insertTransfer.all(planned.transfer).length > 0) st.insertOutbox.run(planned.outbox)
      }
      return bankWrites.recordedCredit(settled)
    }
    case 'transfer-update': {
      const row =
        st.transferByStarkId.get({ starkId: decision.transferId }) ??
        (decision.externalId === null ? undefined : st.transferById.get({ id: decision.externalId }))
      const settled = settleTransferEvent(decision, row)
      if (!insertInbox(settled.outcome, bankWrites.transferEventFlag(settled), decision.externalId))
        return { kind: 'duplicate' }
      if (settled.kind === 'apply')
        st.setBankStatus.run({
          id: settled.transferId,
          ...bankWrites.bankStatusColumns(settled.bankStatus, now),
        })
      return bankWrites.recordedTransferEvent(settled)
    }
    case 'ignore':
      if (!insertInbox(decision.reason, null, null)) return { kind: 'duplicate' }
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
) {
  const kept = st.pendingTransferEvents.all({ starkId, transferId })
  if (kept.length === 0) return
  // In the order they arrived (received_at, then id), as SQLite would have sorted them.
  kept.sort((a, b) => a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const applied = applyKeptEvents(kept, st.transferById.get({ id: transferId }))
  for (const e of applied.resolved) st.resolveEvent.run(e)
  if (applied.bankStatus !== undefined)
    st.setBankStatus.run({ id: transferId, ...bankWrites.bankStatusColumns(applied.bankStatus, now) })
}

import {
  type AnomalyEvent,
  type CreditedInvoice,
  type LedgerTransfer,
  type Reconciliation,
  reconcile as reconcileRows,
} from '../../../domain/reconcile.ts'
import { type ReconcileOptions, reconcileWindow, withRequestedDay } from '../../../domain/reconcile-window.ts'
import type { Ledger } from './database.ts'

export { dayStart, type ReconcileOptions } from '../../../domain/reconcile-window.ts'

/**
 * Reconciles the ledger's credited invoices against its transfers per UTC day of the credit
 * (see the domain's `reconcile`). Read in one transaction, so a relay writing meanwhile cannot make
 * a transfer look missing.
 */
export function reconcile(ledger: Ledger, options: ReconcileOptions = {}): Reconciliation {
  const { start, end } = reconcileWindow(options)
  const { sqlite } = ledger
  const read = sqlite.transaction(() => {
    const invoices = sqlite
      .query(
        // What the first credit paid; rows credited before that was recorded have the planned amount.
        `SELECT id, stark_id AS starkId, coalesce(credited_amount, amount) AS amount, coalesce(fee, 0) AS fee,
                credited_at AS creditedAt
         FROM invoices
         WHERE status = 'credited' AND stark_id IS NOT NULL AND credited_at >= ? AND credited_at < ?
         ORDER BY credited_at, id`,
      )
      .all(start, end) as CreditedInvoice[]
    // The range's invoices' transfers, and transfers made in the range for no credited invoice at all.
    const transfers = sqlite
      .query(
        `SELECT id, invoice_stark_id AS invoiceStarkId, amount, status, bank_status AS bankStatus, reason,
                created_at AS createdAt
         FROM transfers
         WHERE invoice_stark_id IN (
                 SELECT stark_id FROM invoices
                 WHERE status = 'credited' AND credited_at >= ? AND credited_at < ? AND stark_id IS NOT NULL)
            OR (created_at >= ? AND created_at < ? AND invoice_stark_id NOT IN (
                 SELECT stark_id FROM invoices WHERE status = 'credited' AND stark_id IS NOT NULL))
         ORDER BY created_at, id`,
      )
      .all(start, end, start, end) as LedgerTransfer[]
    const anomalies = sqlite
      .query(
        `SELECT id, subject_id AS subjectId, outcome, received_at AS receivedAt
         FROM events WHERE flag = 'anomaly' AND received_at >= ? AND received_at < ?
         ORDER BY received_at, id`,
      )
      .all(start, end) as AnomalyEvent[]
    return { invoices, transfers, anomalies }
  })
  const { invoices, transfers, anomalies } = read.deferred()
  const result = reconcileRows(
    invoices,
    transfers,
    {
      now: options.now ?? Date.now(),
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    },
    anomalies,
  )
  return withRequestedDay(result, options)
}

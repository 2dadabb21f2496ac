import type { AnomalyEvent, CreditedInvoice, LedgerTransfer } from '../../../domain/reconcile.ts'
import type { ReconcileRows } from '../../../ports/ledger-views.ts'
import type { LedgerRead } from '../read.ts'

/**
 * What reconciling [start, end) reads: the credited invoices of the range, their transfers plus the
 * range's transfers for no credited invoice at all, and the anomalies recorded in it. One snapshot,
 * so a relay writing meanwhile cannot make a transfer look missing.
 */
export const reconcileRows = (ledger: LedgerRead, window: { start: number; end: number }) =>
  ledger.snapshot(async (read): Promise<ReconcileRows> => {
    const { start, end } = window
    const invoices = await read.all<CreditedInvoice>(
      // What the first credit paid; rows credited before that was recorded have the planned amount.
      `SELECT id, stark_id AS "starkId", coalesce(credited_amount, amount) AS amount, coalesce(fee, 0) AS fee,
              credited_at AS "creditedAt"
       FROM invoices
       WHERE status = 'credited' AND stark_id IS NOT NULL AND credited_at >= ? AND credited_at < ?
       ORDER BY credited_at, id`,
      [start, end],
    )
    const transfers = await read.all<LedgerTransfer>(
      `SELECT id, invoice_stark_id AS "invoiceStarkId", amount, status, bank_status AS "bankStatus", reason,
              created_at AS "createdAt"
       FROM transfers
       WHERE invoice_stark_id IN (
               SELECT stark_id FROM invoices
               WHERE status = 'credited' AND credited_at >= ? AND credited_at < ? AND stark_id IS NOT NULL)
          OR (created_at >= ? AND created_at < ? AND invoice_stark_id NOT IN (
               SELECT stark_id FROM invoices WHERE status = 'credited' AND stark_id IS NOT NULL))
       ORDER BY created_at, id`,
      [start, end, start, end],
    )
    const anomalies = await read.all<AnomalyEvent>(
      `SELECT id, subject_id AS "subjectId", outcome, received_at AS "receivedAt"
       FROM events WHERE flag = 'anomaly' AND received_at >= ? AND received_at < ?
       ORDER BY received_at, id`,
      [start, end],
    )
    return { invoices, transfers, anomalies }
  })

import { and, asc, eq, gte, inArray, isNotNull, lt, notInArray, or, sql } from 'drizzle-orm'
import {
  type LedgerTransfer,
  type Reconciliation,
  reconcile as reconcileRows,
} from '../../../domain/reconcile.ts'
import { type ReconcileOptions, reconcileWindow, withRequestedDay } from '../../../domain/reconcile-window.ts'
import type { PgLedger } from './database.ts'
import { events, invoices, transfers } from './schema.ts'

/**
 * `reconcile` on PostgreSQL: the same rows as on SQLite, read in one REPEATABLE READ transaction so
 * a relay writing meanwhile cannot make a transfer look missing.
 */
export async function reconcilePg(ledger: PgLedger, options: ReconcileOptions = {}): Promise<Reconciliation> {
  const { start, end } = reconcileWindow(options)
  const creditedIds = (range: boolean) =>
    ledger.db
      .select({ starkId: invoices.starkId })
      .from(invoices)
      .where(
        and(
          eq(invoices.status, 'credited'),
          isNotNull(invoices.starkId),
          ...(range ? [gte(invoices.creditedAt, start), lt(invoices.creditedAt, end)] : []),
        ),
      )
  const read = await ledger.db.transaction(
    async (t) => {
      const credited = await t
        .select({
          id: invoices.id,
          starkId: sql<string>`${invoices.starkId}`,
          // What the first credit paid; rows credited before that was recorded have the planned amount.
          amount: sql<number>`coalesce(${invoices.creditedAmount}, ${invoices.amount})`.mapWith(Number),
          fee: sql<number>`coalesce(${invoices.fee}, 0)`.mapWith(Number),
          creditedAt: sql<number>`${invoices.creditedAt}`.mapWith(Number),
        })
        .from(invoices)
        .where(
          and(
            eq(invoices.status, 'credited'),
            isNotNull(invoices.starkId),
            gte(invoices.creditedAt, start),
            lt(invoices.creditedAt, end),
          ),
        )
        .orderBy(asc(invoices.creditedAt), asc(invoices.id))
      // The range's invoices' transfers, and transfers made in the range for no credited invoice at all.
      const rows = await t
        .select({
          id: transfers.id,
          invoiceStarkId: transfers.invoiceStarkId,
          amount: transfers.amount,
          status: transfers.status,
          bankStatus: transfers.bankStatus,
          reason: transfers.reason,
          createdAt: transfers.createdAt,
        })
        .from(transfers)
        .where(
          or(
            inArray(transfers.invoiceStarkId, creditedIds(true)),
            and(
              gte(transfers.createdAt, start),
              lt(transfers.createdAt, end),
              notInArray(transfers.invoiceStarkId, creditedIds(false)),
            ),
          ),
        )
        .orderBy(asc(transfers.createdAt), asc(transfers.id))
      const anomalies = await t
        .select({
          id: events.id,
          subjectId: events.subjectId,
          outcome: events.outcome,
          receivedAt: events.receivedAt,
        })
        .from(events)
        .where(and(eq(events.flag, 'anomaly'), gte(events.receivedAt, start), lt(events.receivedAt, end)))
        .orderBy(asc(events.receivedAt), asc(events.id))
      return { credited, transfers: rows as LedgerTransfer[], anomalies }
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  )
  const result = reconcileRows(
    read.credited,
    read.transfers,
    {
      now: options.now ?? Date.now(),
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    },
    read.anomalies,
  )
  return withRequestedDay(result, options)
}

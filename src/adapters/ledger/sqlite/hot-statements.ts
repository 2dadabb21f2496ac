import { and, eq, is, isNull, ne, or, SQL, sql } from 'drizzle-orm'
import { invoiceFactColumns, transferRefColumns } from '../bank-event-writes.ts'
import { attemptedForward } from '../forward-writes.ts'
import { leasedOutbox, ownedOutbox } from '../outbox-claims.ts'
import type { Ledger } from './database.ts'
import { events, forwards, invoices, outbox, transfers } from './schema.ts'

// drizzle builds and prepares a statement's SQL on every call, which costs several times the
// statement itself; the steps every event takes are prepared once here. They run on the ledger's
// one connection, so inside whatever transaction the caller has open. Each placeholder is named for
// its column, so a statement takes the row or columns the shared builders make (../*-writes.ts).

/** Placeholders for `names`, each named for its column. */
function placeholders<K extends string>(...names: K[]): Record<K, never> {
  return Object.fromEntries(names.map((n) => [n, sql.placeholder(n)])) as Record<K, never>
}
const p = (name: string) => sql.placeholder(name) as never
/** A shared builder's columns with each plain value a placeholder named for its key; SQL stays SQL. */
function parameterized<T extends Record<string, unknown>>(columns: T): T {
  return Object.fromEntries(
    Object.entries(columns).map(([key, value]) => [key, is(value, SQL) ? value : sql.placeholder(key)]),
  ) as T
}

const invoiceFacts = invoiceFactColumns(invoices)
const transferRef = transferRefColumns(transfers)
const done = placeholders('status', 'leaseUntil', 'lastError', 'updatedAt')

/** Prepared statements for the per-event steps of the stores. */
export function hotStatements(db: Ledger['db']) {
  return {
    /** An event's inbox row (Stark Bank or Stripe); returns it unless the event id was seen before. */
    insertInbox: db
      .insert(events)
      .values(
        placeholders(
          'id',
          'source',
          'subscription',
          'type',
          'subjectId',
          'outcome',
          'flag',
          'refId',
          'payload',
          'receivedAt',
        ),
      )
      .onConflictDoNothing()
      .returning({ id: events.id })
      .prepare(),
    invoiceByStarkId: db
      .select(invoiceFacts)
      .from(invoices)
      .where(eq(invoices.starkId, p('starkId')))
      .prepare(),
    plannedInvoice: db
      .select(invoiceFacts)
      .from(invoices)
      .where(and(eq(invoices.id, p('id')), isNull(invoices.starkId)))
      .prepare(),
    /** The row of a credited invoice no run planned (bankWrites.externalInvoiceRow). */
    insertExternalInvoice: db
      .insert(invoices)
      .values(
        placeholders(
          'id',
          'amount',
          'name',
          'taxId',
          'createdAt',
          'status',
          'starkId',
          'fee',
          'creditedAmount',
          'creditedAt',
          'updatedAt',
        ),
      )
      .prepare(),
    /** The first credit of an invoice row; the row takes the Stark Bank id if it had none yet. */
    creditInvoice: db
      .update(invoices)
      .set(placeholders('status', 'starkId', 'fee', 'creditedAmount', 'creditedAt', 'updatedAt'))
      .where(eq(invoices.id, p('id')))
      .prepare(),
    transferByStarkId: db
      .select(transferRef)
      .from(transfers)
      .where(eq(transfers.starkId, p('starkId')))
      .limit(1)
      .prepare(),
    transferById: db
      .select(transferRef)
      .from(transfers)
      .where(eq(transfers.id, p('id')))
      .prepare(),
    setBankStatus: db
      .update(transfers)
      .set(placeholders('bankStatus', 'updatedAt'))
      .where(eq(transfers.id, p('id')))
      .prepare(),
    /**
     * Transfer events kept for a transfer not created yet, by its Stark Bank id or externalId. Unsorted:
     * an ORDER BY here costs a temporary b-tree on every transfer created, found rows or not (about
     * 50 µs, ten times the search); the caller sorts the few it finds.
     */
    pendingTransferEvents: db
      .select({ id: events.id, payload: events.payload, receivedAt: events.receivedAt })
      .from(events)
      .where(
        and(
          eq(events.flag, 'unmatched'),
          or(eq(events.subjectId, p('starkId')), eq(events.refId, p('transferId'))),
        ),
      )
      .prepare(),
    resolveEvent: db
      .update(events)
      .set(placeholders('flag', 'outcome'))
      .where(eq(events.id, p('id')))
      .prepare(),
    insertTransfer: db
      .insert(transfers)
      .values(
        placeholders(
          'id',
          'invoiceStarkId',
          'eventId',
          'amount',
          'status',
          'request',
          'createdAt',
          'updatedAt',
        ),
      )
      .onConflictDoNothing()
      .returning({ id: transfers.id })
      .prepare(),
    /** The transfer a credit that is not paid out keeps (bankWrites.skippedTransferRow). */
    insertSkippedTransfer: db
      .insert(transfers)
      .values(
        placeholders(
          'id',
          'invoiceStarkId',
          'eventId',
          'amount',
          'status',
          'request',
          'reason',
          'createdAt',
          'updatedAt',
        ),
      )
      .onConflictDoNothing()
      .prepare(),
    insertOutbox: db
      .insert(outbox)
      .values(placeholders('id', 'kind', 'refId', 'status', 'nextAttemptAt', 'createdAt', 'updatedAt'))
      .onConflictDoNothing()
      .prepare(),
    markTransferCreated: db
      .update(transfers)
      .set(placeholders('status', 'starkId', 'bankStatus', 'reason', 'sentAt', 'updatedAt'))
      // Created never moves back, and keeps the Stark Bank id it was first given.
      .where(and(eq(transfers.id, p('id')), ne(transfers.status, 'created')))
      .prepare(),
    /** Marks the outbox row done if this claim still owns it (returns it then). */
    outboxDoneOwned: db
      .update(outbox)
      .set(done)
      .where(ownedOutbox(outbox, p('id'), p('attempt')))
      .returning({ id: outbox.id })
      .prepare(),
    outboxDone: db
      .update(outbox)
      .set(done)
      .where(eq(outbox.id, p('id')))
      .prepare(),
    insertForward: db
      .insert(forwards)
      .values(placeholders('id', 'type', 'shape', 'body', 'status', 'createdAt', 'updatedAt'))
      .onConflictDoNothing()
      .prepare(),
    /** A claim's lease on one outbox row (run with `leasedOutbox`'s columns and the row id). */
    leaseOutbox: db
      .update(outbox)
      .set(parameterized(leasedOutbox(outbox, 0, 0)))
      .where(eq(outbox.id, p('id')))
      .prepare(),
    /** One attempt more on a leased forward; returns what the POST needs. */
    attemptForward: db
      .update(forwards)
      .set(attemptedForward(forwards, p('now')))
      .where(eq(forwards.id, p('id')))
      .returning({
        id: forwards.id,
        type: forwards.type,
        body: forwards.body,
        firstAttemptAt: forwards.firstAttemptAt,
      })
      .prepare(),
    markForwardDelivered: db
      .update(forwards)
      .set(placeholders('status', 'lastStatusCode', 'lastError', 'latencyMs', 'deliveredAt', 'updatedAt'))
      .where(eq(forwards.id, p('id')))
      .prepare(),
  }
}

export type HotStatements = ReturnType<typeof hotStatements>

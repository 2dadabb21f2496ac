import { and, asc, eq, isNull, ne, or, sql } from 'drizzle-orm'
import type { Ledger } from './database.ts'
import { events, forwards, invoices, outbox, transfers } from './schema.ts'

// drizzle builds and prepares a statement's SQL on every call, which costs several times the
// statement itself; the steps every event takes are prepared once here. They run on the ledger's
// one connection, so inside whatever transaction the caller has open.

const p = (name: string) => sql.placeholder(name) as never

const invoiceFacts = {
  id: invoices.id,
  status: invoices.status,
  runId: invoices.runId,
  creditedAmount: invoices.creditedAmount,
  fee: invoices.fee,
}
const transferRef = { id: transfers.id, starkId: transfers.starkId, bankStatus: transfers.bankStatus }

/** Prepared statements for the per-event steps of the stores. */
export function hotStatements(db: Ledger['db']) {
  return {
    insertEvent: db
      .insert(events)
      .values({
        id: p('id'),
        source: p('source'),
        subscription: p('subscription'),
        type: p('type'),
        subjectId: p('subjectId'),
        outcome: p('outcome'),
        payload: p('payload'),
        receivedAt: p('now'),
      })
      .onConflictDoNothing()
      .returning({ id: events.id })
      .prepare(),
    /** A Stark Bank event's inbox row, with its flag and (transfer events) externalId. */
    insertBankEvent: db
      .insert(events)
      .values({
        id: p('id'),
        source: 'starkbank',
        subscription: p('subscription'),
        type: p('type'),
        subjectId: p('subjectId'),
        outcome: p('outcome'),
        flag: p('flag'),
        refId: p('refId'),
        payload: p('payload'),
        receivedAt: p('now'),
      })
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
    /** The first credit of an invoice row; the row takes the Stark Bank id if it had none yet. */
    creditInvoice: db
      .update(invoices)
      .set({
        status: 'credited',
        starkId: p('starkId'),
        fee: p('fee'),
        creditedAmount: p('amount'),
        creditedAt: p('now'),
        updatedAt: p('now'),
      })
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
      .set({ bankStatus: p('bankStatus'), updatedAt: p('now') })
      .where(eq(transfers.id, p('id')))
      .prepare(),
    /** Transfer events kept for a transfer not created yet, by its Stark Bank id or externalId. */
    pendingTransferEvents: db
      .select({ id: events.id, payload: events.payload })
      .from(events)
      .where(
        and(
          eq(events.flag, 'unmatched'),
          or(eq(events.subjectId, p('starkId')), eq(events.refId, p('transferId'))),
        ),
      )
      .orderBy(asc(events.receivedAt), asc(events.id))
      .prepare(),
    resolveEvent: db
      .update(events)
      .set({ flag: p('flag'), outcome: p('outcome') })
      .where(eq(events.id, p('id')))
      .prepare(),
    insertTransfer: db
      .insert(transfers)
      .values({
        id: p('id'),
        invoiceStarkId: p('invoiceStarkId'),
        eventId: p('eventId'),
        amount: p('amount'),
        status: 'pending',
        request: p('request'),
        createdAt: p('now'),
        updatedAt: p('now'),
      })
      .onConflictDoNothing()
      .returning({ id: transfers.id })
      .prepare(),
    insertOutbox: db
      .insert(outbox)
      .values({
        id: p('id'),
        kind: p('kind'),
        refId: p('refId'),
        status: 'pending',
        nextAttemptAt: p('now'),
        createdAt: p('now'),
        updatedAt: p('now'),
      })
      .onConflictDoNothing()
      .prepare(),
    markTransferCreated: db
      .update(transfers)
      .set({
        status: 'created',
        starkId: p('starkId'),
        bankStatus: p('bankStatus'),
        reason: null,
        sentAt: p('now'),
        updatedAt: p('now'),
      })
      // Created never moves back, and keeps the Stark Bank id it was first given.
      .where(and(eq(transfers.id, p('id')), ne(transfers.status, 'created')))
      .prepare(),
    /** Marks the outbox row done if this claim still owns it (returns it then). */
    outboxDoneOwned: db
      .update(outbox)
      .set({ status: 'done', leaseUntil: null, lastError: null, updatedAt: p('now') })
      .where(and(eq(outbox.id, p('id')), eq(outbox.status, 'in_flight'), eq(outbox.attempts, p('attempt'))))
      .returning({ id: outbox.id })
      .prepare(),
    outboxDone: db
      .update(outbox)
      .set({ status: 'done', leaseUntil: null, lastError: null, updatedAt: p('now') })
      .where(eq(outbox.id, p('id')))
      .prepare(),
    insertForward: db
      .insert(forwards)
      .values({
        id: p('id'),
        type: p('type'),
        shape: p('shape'),
        body: p('body'),
        status: 'pending',
        createdAt: p('now'),
        updatedAt: p('now'),
      })
      .onConflictDoNothing()
      .prepare(),
    markForwardDelivered: db
      .update(forwards)
      .set({
        status: 'delivered',
        lastStatusCode: p('statusCode'),
        lastError: null,
        latencyMs: p('latencyMs'),
        deliveredAt: p('now'),
        updatedAt: p('now'),
      })
      .where(eq(forwards.id, p('id')))
      .prepare(),
  }
}

export type HotStatements = ReturnType<typeof hotStatements>

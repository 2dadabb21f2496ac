import { and, eq, ne, sql } from 'drizzle-orm'
import type { Ledger } from './database.ts'
import { events, forwards, invoices, outbox, transfers } from './schema.ts'

// drizzle builds and prepares a statement's SQL on every call, which costs several times the
// statement itself; the steps every event takes are prepared once here. They run on the ledger's
// one connection, so inside whatever transaction the caller has open.

const p = (name: string) => sql.placeholder(name) as never

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
    creditInvoice: db
      .update(invoices)
      .set({ status: 'credited', fee: p('fee'), creditedAt: p('now'), updatedAt: p('now') })
      .where(eq(invoices.starkId, p('starkId')))
      .returning({ id: invoices.id })
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

import { desc } from 'drizzle-orm'
import type { Ledger } from './database.ts'
import { forwardsView } from './forward-store.ts'
import { deadLetters, events, invoices, outbox, schedulerRuns, transfers } from './schema.ts'

export const VIEWS = [
  'runs',
  'invoices',
  'events',
  'transfers',
  'outbox',
  'dead-letters',
  'forwards',
] as const
export type View = (typeof VIEWS)[number]

const time = (ms: number | null | undefined) =>
  ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : ''
const money = (cents: number | null | undefined) =>
  cents === null || cents === undefined ? '' : (cents / 100).toFixed(2)

/** Read-only views of the ledger for the CLI and the admin surface, newest first. */
export function ledgerView(ledger: Ledger, view: View, limit = 50): Record<string, string | number>[] {
  const { db } = ledger
  switch (view) {
    case 'runs':
      return db
        .select()
        .from(schedulerRuns)
        .orderBy(desc(schedulerRuns.plannedAt))
        .limit(limit)
        .all()
        .map((r) => ({
          run: r.id,
          status: r.status,
          invoices: r.invoiceCount,
          planned: time(r.plannedAt),
          issued: time(r.issuedAt),
          attempts: r.attempts,
          error: r.lastError ?? '',
        }))
    case 'invoices':
      return db
        .select()
        .from(invoices)
        .orderBy(desc(invoices.createdAt), desc(invoices.id))
        .limit(limit)
        .all()
        .map((i) => ({
          invoice: i.id,
          stark_id: i.starkId ?? '',
          status: i.status,
          amount: money(i.amount),
          fee: money(i.fee),
          name: i.name,
          tax_id: i.taxId,
          credited: time(i.creditedAt),
        }))
    case 'events':
      return db
        .select()
        .from(events)
        .orderBy(desc(events.receivedAt))
        .limit(limit)
        .all()
        .map((e) => ({
          event: e.id,
          source: e.source,
          subscription: e.subscription,
          type: e.type,
          subject: e.subjectId ?? '',
          outcome: e.outcome,
          received: time(e.receivedAt),
        }))
    case 'transfers':
      return db
        .select()
        .from(transfers)
        .orderBy(desc(transfers.createdAt))
        .limit(limit)
        .all()
        .map((t) => ({
          transfer: t.id,
          invoice: t.invoiceStarkId,
          amount: money(t.amount),
          status: t.status,
          stark_id: t.starkId ?? '',
          bank_status: t.bankStatus ?? '',
          reason: t.reason ?? '',
          updated: time(t.updatedAt),
        }))
    case 'outbox':
      return db
        .select()
        .from(outbox)
        .orderBy(desc(outbox.createdAt))
        .limit(limit)
        .all()
        .map((o) => ({
          id: o.id,
          kind: o.kind,
          status: o.status,
          attempts: o.attempts,
          next_attempt: o.status === 'pending' ? time(o.nextAttemptAt) : '',
          last_error: o.lastError ?? '',
        }))
    case 'forwards':
      return forwardsView(ledger, limit)
    case 'dead-letters':
      return db
        .select()
        .from(deadLetters)
        .orderBy(desc(deadLetters.createdAt))
        .limit(limit)
        .all()
        .map((d) => ({
          queue: d.queue,
          message: d.messageId,
          reason: d.reason,
          receives: d.receiveCount,
          body: d.body.length > 60 ? `${d.body.slice(0, 57)}...` : d.body,
          at: time(d.createdAt),
        }))
  }
}

import type { Trace, TraceStep } from '../../../ports/ledger-views.ts'
import type { LedgerRead, Row } from '../read.ts'
import {
  deadLetterStep,
  eventStep,
  forwardStep,
  invoiceStep,
  outboxStep,
  type QueuedMessage,
  queuedStep,
  runStep,
  transferStep,
} from './trace-steps.ts'

/** Messages on a queue kept in the ledger that carry `needle` in their id or body. */
export type QueuedMentions = (read: LedgerRead, needle: string) => Promise<QueuedMessage[]>

/**
 * A case-sensitive "contains" both engines read alike (no `instr`/`strpos`, and `LIKE` is
 * case-insensitive on SQLite and would read `%` and `_` in an id as wildcards).
 */
export const CONTAINS = (column: string) => `replace(${column}, ?, '') <> ${column}`

/**
 * One item's lineage, read in one snapshot. Stark Bank items: run → invoice → events → outbox →
 * transfer → transfer events; Stripe events: inbox → forward → outbox; then any dead letters or
 * waiting messages (`queued`, when the queue lives in the ledger) that mention it.
 */
export const traceOf =
  (ledger: LedgerRead, queued?: QueuedMentions) =>
  (id: string): Promise<Trace> =>
    ledger.snapshot(async (read) => {
      const steps: TraceStep[] = []
      const one = async (sql: string, ...args: string[]) => (await read.all<Row>(sql, args))[0] ?? null
      const all = (sql: string, ...args: string[]) => read.all<Row>(sql, args)
      const add = (more: TraceStep[]) => steps.push(...more)

      const stark = async (invoice: Row | null, invoiceStarkId: string | null, transfer: Row | null) => {
        if (invoice?.run_id) {
          const run = await one('SELECT * FROM scheduler_runs WHERE id = ?', String(invoice.run_id))
          if (run) steps.push(runStep(run))
        }
        if (invoice) steps.push(invoiceStep(invoice))
        if (invoiceStarkId)
          add(
            (
              await all('SELECT * FROM events WHERE subject_id = ? ORDER BY received_at, id', invoiceStarkId)
            ).map(eventStep),
          )
        if (!transfer) return
        const outbox = await one(
          "SELECT * FROM outbox WHERE kind = 'transfer' AND ref_id = ?",
          String(transfer.id),
        )
        if (outbox) steps.push(outboxStep(outbox))
        steps.push(transferStep(transfer))
        // Its events by Stark Bank id, and those that came before it was created (by externalId).
        const events = await all(
          'SELECT * FROM events WHERE subject_id = ? OR ref_id = ? ORDER BY received_at, id',
          String(transfer.stark_id ?? ''),
          String(transfer.id),
        )
        add(events.map(eventStep))
      }

      const stripe = async (eventId: string) => {
        const event = await one('SELECT * FROM events WHERE id = ?', eventId)
        if (event) steps.push(eventStep(event))
        const forward = await one('SELECT * FROM forwards WHERE id = ?', eventId)
        if (forward) steps.push(forwardStep(forward))
        const outbox = await one("SELECT * FROM outbox WHERE kind = 'forward' AND ref_id = ?", eventId)
        if (outbox) steps.push(outboxStep(outbox))
        await mentions([eventId])
      }

      /** Dead letters and waiting messages that carry any of the ids (in their id or body). */
      const mentions = async (ids: (string | null | undefined)[]) => {
        const seen = new Set<string>()
        for (const needle of new Set(ids.filter((i): i is string => Boolean(i)))) {
          const dead = await all(
            `SELECT * FROM dead_letters WHERE message_id = ? OR ${CONTAINS('body')} ORDER BY created_at, id`,
            needle,
            needle,
          )
          for (const d of dead) {
            if (!seen.has(`d${d.id}`)) steps.push(deadLetterStep(d))
            seen.add(`d${d.id}`)
          }
          for (const q of queued ? await queued(read, needle) : []) {
            if (!seen.has(`q${q.id}`)) steps.push(queuedStep(q))
            seen.add(`q${q.id}`)
          }
        }
      }

      const found = async (): Promise<Trace['found']> => {
        const event = await one('SELECT * FROM events WHERE id = ?', id)
        if (event?.source === 'stripe') {
          await stripe(id)
          return 'stripe-event'
        }
        const subject = event?.subject_id ? String(event.subject_id) : undefined
        const invoice =
          (await one('SELECT * FROM invoices WHERE id = ? OR stark_id = ?', id, id)) ??
          (subject ? await one('SELECT * FROM invoices WHERE stark_id = ?', subject) : null)
        const transfer =
          (await one('SELECT * FROM transfers WHERE id = ? OR stark_id = ?', id, id)) ??
          (subject
            ? await one(
                'SELECT * FROM transfers WHERE stark_id = ? OR invoice_stark_id = ?',
                subject,
                subject,
              )
            : null)
        const invoiceStarkId = (invoice?.stark_id ?? transfer?.invoice_stark_id ?? null) as string | null
        if (invoice || transfer) {
          const owner =
            invoice ??
            (invoiceStarkId ? await one('SELECT * FROM invoices WHERE stark_id = ?', invoiceStarkId) : null)
          const paid =
            transfer ??
            (invoiceStarkId
              ? await one('SELECT * FROM transfers WHERE invoice_stark_id = ?', invoiceStarkId)
              : null)
          await stark(owner, invoiceStarkId, paid)
          await mentions([id, invoiceStarkId, invoice?.id as string | undefined])
          if (event) return 'stark-event'
          return invoice && (invoice.id === id || invoice.stark_id === id) ? 'invoice' : 'transfer'
        }
        if (event) {
          steps.push(eventStep(event))
          await mentions([id])
          return 'stark-event'
        }
        const run = await one('SELECT * FROM scheduler_runs WHERE id = ?', id)
        if (run) {
          steps.push(runStep(run))
          add((await all('SELECT * FROM invoices WHERE run_id = ? ORDER BY id', id)).map(invoiceStep))
          return 'run'
        }
        if (await one('SELECT id FROM forwards WHERE id = ?', id)) {
          await stripe(id)
          return 'stripe-event'
        }
        await mentions([id])
        return steps.length > 0 ? 'message' : null
      }

      return { query: id, found: await found(), steps }
    })

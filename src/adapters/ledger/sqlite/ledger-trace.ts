import type { Ledger } from './database.ts'
import { hasTable } from './ledger-counts.ts'

/** One step of an item's life as the ledger saw it. Payloads are never included. */
export interface TraceStep {
  step: 'run' | 'invoice' | 'event' | 'outbox' | 'transfer' | 'forward' | 'dead-letter' | 'queued'
  id: string
  status: string
  /** ms since the epoch, null when the ledger has no time for it. */
  at: number | null
  detail: Record<string, string | number>
}

export interface Trace {
  query: string
  /** What the id was recognised as; null when the ledger knows nothing of it. */
  found: 'stark-event' | 'invoice' | 'transfer' | 'run' | 'stripe-event' | 'message' | null
  steps: TraceStep[]
}

type Row = Record<string, string | number | null>
const brl = (cents: unknown) => (typeof cents === 'number' ? (cents / 100).toFixed(2) : '')
const clean = (detail: Record<string, string | number | null | undefined>) =>
  Object.fromEntries(
    Object.entries(detail).filter(([, v]) => v !== null && v !== undefined && v !== ''),
  ) as Record<string, string | number>

/**
 * One item's lineage from any of its ids: a Stark Bank event id, an invoice id (ours or Stark
 * Bank's), a transfer id (= externalId) or Stark Bank transfer id, a run id, a Stripe event id or a
 * queue message id. Stark Bank items: run → invoice → events → outbox → transfer → transfer events;
 * Stripe events: inbox → forward → outbox; then any dead letters or waiting messages that mention it.
 */
export function traceItem(ledger: Ledger, id: string): Trace {
  const { sqlite } = ledger
  const one = (sql: string, ...args: string[]) => sqlite.query(sql).get(...args) as Row | null
  const all = (sql: string, ...args: string[]) => sqlite.query(sql).all(...args) as Row[]
  const steps: TraceStep[] = []
  const read = sqlite.transaction((): Trace['found'] => {
    const event = one('SELECT * FROM events WHERE id = ?', id)
    if (event?.source === 'stripe') {
      stripe(id)
      return 'stripe-event'
    }
    const subject = event?.subject_id ? String(event.subject_id) : undefined
    const invoice =
      one('SELECT * FROM invoices WHERE id = ? OR stark_id = ?', id, id) ??
      (subject ? one('SELECT * FROM invoices WHERE stark_id = ?', subject) : null)
    const transfer =
      one('SELECT * FROM transfers WHERE id = ? OR stark_id = ?', id, id) ??
      (subject
        ? one('SELECT * FROM transfers WHERE stark_id = ? OR invoice_stark_id = ?', subject, subject)
        : null)
    const invoiceStarkId = (invoice?.stark_id ?? transfer?.invoice_stark_id ?? null) as string | null
    if (invoice || transfer) {
      const owner =
        invoice ?? (invoiceStarkId ? one('SELECT * FROM invoices WHERE stark_id = ?', invoiceStarkId) : null)
      stark(owner, invoiceStarkId, transfer ?? (invoiceStarkId ? transferOf(invoiceStarkId) : null))
      mentions([id, invoiceStarkId, invoice?.id as string | undefined])
      return event
        ? 'stark-event'
        : invoice && (invoice.id === id || invoice.stark_id === id)
          ? 'invoice'
          : 'transfer'
    }
    if (event) {
      steps.push(eventStep(event))
      mentions([id])
      return 'stark-event'
    }
    const run = one('SELECT * FROM scheduler_runs WHERE id = ?', id)
    if (run) {
      steps.push(runStep(run))
      for (const i of all('SELECT * FROM invoices WHERE run_id = ? ORDER BY id', id))
        steps.push(invoiceStep(i))
      return 'run'
    }
    if (hasTable(ledger, 'forwards') && one('SELECT id FROM forwards WHERE id = ?', id)) {
      stripe(id)
      return 'stripe-event'
    }
    mentions([id])
    return steps.length > 0 ? 'message' : null
  })

  function transferOf(invoiceStarkId: string): Row | null {
    return one('SELECT * FROM transfers WHERE invoice_stark_id = ?', invoiceStarkId)
  }

  function stark(invoice: Row | null, invoiceStarkId: string | null, transfer: Row | null): void {
    if (invoice?.run_id) {
      const run = one('SELECT * FROM scheduler_runs WHERE id = ?', String(invoice.run_id))
      if (run) steps.push(runStep(run))
    }
    if (invoice) steps.push(invoiceStep(invoice))
    if (invoiceStarkId) {
      for (const e of all('SELECT * FROM events WHERE subject_id = ? ORDER BY received_at', invoiceStarkId))
        steps.push(eventStep(e))
    }
    if (!transfer) return
    const outbox = one("SELECT * FROM outbox WHERE kind = 'transfer' AND ref_id = ?", String(transfer.id))
    if (outbox) steps.push(outboxStep(outbox))
    steps.push({
      step: 'transfer',
      id: String(transfer.id),
      status: String(transfer.status),
      at: transfer.updated_at as number,
      detail: clean({
        amount: brl(transfer.amount),
        stark_id: transfer.stark_id,
        bank_status: transfer.bank_status,
        reason: transfer.reason,
      }),
    })
    // Its events by Stark Bank id, and those that came before it was created (by externalId).
    for (const e of all(
      'SELECT * FROM events WHERE subject_id = ? OR ref_id = ? ORDER BY received_at',
      String(transfer.stark_id ?? ''),
      String(transfer.id),
    ))
      steps.push(eventStep(e))
  }

  function stripe(eventId: string): void {
    const event = one('SELECT * FROM events WHERE id = ?', eventId)
    if (event) steps.push(eventStep(event))
    const forward = hasTable(ledger, 'forwards') ? one('SELECT * FROM forwards WHERE id = ?', eventId) : null
    if (forward) {
      steps.push({
        step: 'forward',
        id: eventId,
        status: String(forward.status),
        at: (forward.delivered_at ?? forward.updated_at) as number,
        detail: clean({
          type: forward.type,
          shape: forward.shape,
          attempts: forward.attempts,
          last_status: forward.last_status_code,
          latency_ms: forward.latency_ms,
          error: forward.last_error,
        }),
      })
    }
    const outbox = one("SELECT * FROM outbox WHERE kind = 'forward' AND ref_id = ?", eventId)
    if (outbox) steps.push(outboxStep(outbox))
    mentions([eventId])
  }

  /** Dead letters and waiting messages that carry any of the ids (in their id or body). */
  function mentions(ids: (string | null | undefined)[]): void {
    const seen = new Set<string>()
    for (const needle of new Set(ids.filter((i): i is string => Boolean(i)))) {
      const dead = all(
        'SELECT * FROM dead_letters WHERE message_id = ? OR instr(body, ?) > 0 ORDER BY created_at',
        needle,
        needle,
      )
      for (const d of dead) {
        if (seen.has(`d${d.id}`)) continue
        seen.add(`d${d.id}`)
        steps.push({
          step: 'dead-letter',
          id: String(d.id),
          status: 'dead',
          at: d.created_at as number,
          detail: clean({
            queue: d.queue,
            message: d.message_id,
            receives: d.receive_count,
            reason: d.reason,
          }),
        })
      }
      const queued = all(
        'SELECT * FROM queue_messages WHERE id = ? OR instr(body, ?) > 0 ORDER BY sent_at',
        needle,
        needle,
      )
      for (const q of queued) {
        if (seen.has(`q${q.id}`)) continue
        seen.add(`q${q.id}`)
        steps.push({
          step: 'queued',
          id: String(q.id),
          status: q.receipt ? 'in flight' : 'waiting',
          at: q.sent_at as number,
          detail: clean({ queue: q.queue, receives: q.receive_count }),
        })
      }
    }
  }

  const found = read.deferred()
  return { query: id, found, steps }
}

function runStep(r: Row): TraceStep {
  return {
    step: 'run',
    id: String(r.id),
    status: String(r.status),
    at: r.planned_at as number,
    detail: clean({ slot: r.slot, invoices: r.invoice_count, attempts: r.attempts, error: r.last_error }),
  }
}

function invoiceStep(i: Row): TraceStep {
  return {
    step: 'invoice',
    id: String(i.id),
    status: String(i.status),
    at: (i.credited_at ?? i.updated_at) as number,
    detail: clean({
      stark_id: i.stark_id,
      amount: brl(i.amount),
      // What the first credit paid (fine and interest included), when it differs from the plan.
      credited: i.credited_amount === i.amount ? '' : brl(i.credited_amount),
      fee: i.fee === null ? '' : brl(i.fee),
    }),
  }
}

function eventStep(e: Row): TraceStep {
  return {
    step: 'event',
    id: String(e.id),
    status: String(e.type),
    at: e.received_at as number,
    detail: clean({
      source: e.source,
      subscription: e.subscription,
      subject: e.subject_id,
      // `anomaly`: recorded, changed nothing; `unmatched`: waiting for its transfer to be created.
      flag: e.flag,
      outcome: e.outcome,
    }),
  }
}

function outboxStep(o: Row): TraceStep {
  return {
    step: 'outbox',
    id: String(o.id),
    status: String(o.status),
    at: o.updated_at as number,
    detail: clean({ kind: o.kind, attempts: o.attempts, error: o.last_error }),
  }
}

/** The trace as aligned text, one step a line. */
export function renderTrace(trace: Trace): string {
  if (!trace.found) return `nothing in the ledger mentions "${trace.query}"\n`
  const time = (ms: number | null) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '')
  const lines = trace.steps.map((s) => [
    s.step,
    s.id,
    s.status,
    time(s.at),
    Object.entries(s.detail)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : v}`)
      .join(' '),
  ])
  const widths = [0, 1, 2, 3].map((c) => Math.max(...lines.map((l) => (l[c] ?? '').length)))
  const body = lines.map((l) =>
    l
      .map((cell, c) => (c < 4 ? cell.padEnd(widths[c] ?? 0) : cell))
      .join('  ')
      .trimEnd(),
  )
  return `trace of ${trace.query} (${trace.found})\n${body.join('\n')}\n`
}

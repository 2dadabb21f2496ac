import { and, asc, isNull, ne, or } from 'drizzle-orm'
import type { CreditDecision } from '../../../domain/bank-event.ts'
import { type CreditSettlement, type LedgerInvoice, settleCredit } from '../../../domain/credit.ts'
import type { RecordedEvent } from '../../../ports/store.ts'
import * as bankWrites from '../bank-event-writes.ts'
import type { PgTx } from './database.ts'
import { anyOf, insertEach, updateEach } from './many-rows.ts'
import { events, invoices, outbox, transfers } from './schema.ts'
import { isTransferEvent, type TransferInput } from './transfer-event-batch.ts'

// A receive's credited (and ignored) events in one statement per table instead of five or six per
// event: the invoice facts of the whole batch read and locked at once, then each table written with
// one multi-row statement. What is written, and the decisions, are those of recordIn
// (./bank-events.ts), event by event; this only holds for events that touch nothing another event
// of the same batch touches, which `independentRuns` sees to.

type Input = bankWrites.RecordInput
type CreditInput = Input & { decision: CreditDecision }

const isCredit = (input: Input): input is CreditInput =>
  input.decision.kind === 'credit' || input.decision.kind === 'no-transfer'

/** What an event may read or write that another event could too: its id, its invoice, its tag's row. */
function touches(input: Input): string[] {
  const keys = [`event:${input.event.id}`]
  if (isCredit(input)) {
    keys.push(`stark:${input.decision.invoiceId}`)
    if (input.decision.plannedId !== null) keys.push(`row:${input.decision.plannedId}`)
  }
  return keys
}

/**
 * The inputs in order, cut into runs: a run of credited or ignored events none of which touches what
 * another in the run touches (recorded together, they end as they would one after another), or a run
 * of transfer events (recordTransferEvents settles them in order itself). A run reads what the runs
 * before it wrote.
 */
export function independentRuns(
  inputs: Input[],
): ({ kind: 'credits'; items: Input[] } | { kind: 'transfers'; items: TransferInput[] })[] {
  const runs: ReturnType<typeof independentRuns> = []
  let seen = new Set<string>()
  for (const input of inputs) {
    const current = runs.at(-1)
    if (isTransferEvent(input)) {
      if (current?.kind === 'transfers') current.items.push(input)
      else runs.push({ kind: 'transfers', items: [input] })
      continue
    }
    const keys = touches(input)
    if (current?.kind === 'credits' && !keys.some((k) => seen.has(k))) current.items.push(input)
    else {
      runs.push({ kind: 'credits', items: [input] })
      seen = new Set()
    }
    for (const k of keys) seen.add(k)
  }
  return runs
}

const invoiceFacts = { ...bankWrites.invoiceFactColumns(invoices), starkId: invoices.starkId }
const byId = <R extends { id: string }>(rows: R[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : 1))

/**
 * Records independent credited and ignored events (see independentRuns) inside the caller's
 * transaction; answers each as recordIn would. Rows are written in key order, so two workers with
 * overlapping batches lock them in the same order.
 */
export async function recordCredits(t: PgTx, inputs: Input[], now: number): Promise<RecordedEvent[]> {
  const credits = inputs.filter(isCredit)
  const starkIds = credits.map((c) => c.decision.invoiceId)
  const tags = credits.flatMap((c) => (c.decision.plannedId === null ? [] : [c.decision.plannedId]))
  const found =
    credits.length === 0
      ? []
      : await t
          .select(invoiceFacts)
          .from(invoices)
          .where(
            or(anyOf(invoices.starkId, starkIds), and(anyOf(invoices.id, tags), isNull(invoices.starkId))),
          )
          .orderBy(asc(invoices.id))
          .for('update')
  const holders = new Map(found.flatMap((r) => (r.starkId === null ? [] : [[r.starkId, r]])))
  const planned = new Map(found.flatMap((r) => (r.starkId === null ? [[r.id, r]] : [])))
  const settled = new Map<Input, CreditSettlement>()
  for (const c of credits) {
    const byStarkId: LedgerInvoice | undefined = holders.get(c.decision.invoiceId)
    const byTag = byStarkId || c.decision.plannedId === null ? undefined : planned.get(c.decision.plannedId)
    settled.set(c, settleCredit(c.decision, { byStarkId, byTag }))
  }
  await creditInvoices(t, credits, settled, now)

  const inboxRows = inputs.map((input) => {
    const s = settled.get(input)
    if (!s) return bankWrites.bankInboxRow(input, ignoredReason(input), null, null, now)
    return bankWrites.bankInboxRow(input, s.outcome, bankWrites.creditFlag(s), null, now)
  })
  const inserted = await insertEach(t, events, byId(inboxRows))
  const results = inputs.map((input): RecordedEvent => {
    const s = settled.get(input)
    if (!inserted.has(input.event.id)) {
      if (s?.kind === 'first')
        throw new Error(`event ${input.event.id} credited an invoice, then was a duplicate`)
      return { kind: 'duplicate' }
    }
    if (!s) return { kind: 'recorded', effect: 'nothing', outcome: ignoredReason(input) }
    return bankWrites.recordedCredit(s)
  })
  await planTransfers(
    t,
    credits.filter((c) => settled.get(c)?.kind === 'first'),
    settled,
    now,
  )
  return results
}

function ignoredReason(input: Input): string {
  if (input.decision.kind !== 'ignore') throw new Error(`event ${input.event.id} is not an ignored one`)
  return input.decision.reason
}

/**
 * The first credits' invoice rows: new rows for invoices paybridge did not know, the credit on the
 * known and adopted ones. A credit whose row another worker credited meanwhile is a later one.
 */
async function creditInvoices(
  t: PgTx,
  credits: CreditInput[],
  settled: Map<Input, CreditSettlement>,
  now: number,
) {
  const firsts = credits.flatMap((c) => {
    const s = settled.get(c)
    return s?.kind === 'first' ? [{ c, invoice: s.invoice }] : []
  })
  const external = firsts.filter((f) => f.invoice.kind === 'external')
  const known = firsts.filter((f) => f.invoice.kind !== 'external')
  const written = new Set<string>()
  if (external.length > 0) {
    const rows = external.map((f) => bankWrites.externalInvoiceRow(f.invoice.id, f.c, f.c.decision, now))
    for (const id of await insertEach(t, invoices, byId(rows))) written.add(id)
  }
  if (known.length > 0) {
    const rows = known.map((f) => ({ id: f.invoice.id, ...bankWrites.creditedInvoice(f.c.decision, now) }))
    for (const id of await updateEach(t, invoices, 'id', byId(rows), ne(invoices.status, 'credited')))
      written.add(id)
  }
  const lost = firsts.filter((f) => !written.has(f.invoice.id))
  if (lost.length === 0) return
  // Another worker credited these invoices first (their rows appeared meanwhile): these credits are later.
  const current = await t
    .select(invoiceFacts)
    .from(invoices)
    .where(
      anyOf(
        invoices.starkId,
        lost.map((f) => f.c.decision.invoiceId),
      ),
    )
  const holders = new Map(current.map((r) => [r.starkId, r]))
  for (const { c } of lost)
    settled.set(c, settleCredit(c.decision, { byStarkId: holders.get(c.decision.invoiceId) }))
}

/** The transfers the first credits plan (with their outbox rows) or keep unpaid. */
async function planTransfers(
  t: PgTx,
  firsts: CreditInput[],
  settled: Map<Input, CreditSettlement>,
  now: number,
) {
  if (firsts.length === 0) return
  const skipped = []
  const plannedRows = []
  for (const c of firsts) {
    const s = settled.get(c)
    if (s?.kind !== 'first') continue
    if (s.payout.kind === 'skip')
      skipped.push(bankWrites.skippedTransferRow(c, c.decision, s.payout.reason, now))
    else plannedRows.push(bankWrites.plannedTransferRows(c, c.decision, now))
  }
  if (skipped.length > 0) await insertEach(t, transfers, byId(skipped))
  if (plannedRows.length === 0) return
  const fresh = await insertEach(t, transfers, byId(plannedRows.map((p) => p.transfer)))
  const rows = plannedRows.filter((p) => fresh.has(p.transfer.id)).map((p) => p.outbox)
  // A fresh transfer's outbox row is new too: one already there is a broken ledger, and fails the step.
  if (rows.length > 0) await insertEach(t, outbox, byId(rows), { conflicts: 'fail' })
}

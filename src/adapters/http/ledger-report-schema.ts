import * as v from 'valibot'
import { VIEW_ROWS } from './admin-api-schema.ts'

// The reconciliation and the status page's numbers as the admin API answers them
// (/api/reconcile, /api/status): money integer cents under a `…Cents` name, times ISO 8601 UTC
// (domain/reconcile-report.ts reconciliationJson, shownTime).

const count = v.pipe(v.number(), v.integer())
const cents = v.pipe(v.number(), v.integer(), v.description('integer cents'))
const time = v.pipe(v.string(), v.description('ISO 8601 UTC (…Z)'))
const day = v.pipe(v.string(), v.description('UTC day, YYYY-MM-DD'))
const counts = v.record(v.string(), count)

const mismatch = (kind: string, fields: v.ObjectEntries) =>
  v.strictObject({ kind: v.literal(kind), day, ...fields })

export const Mismatch = v.variant('kind', [
  mismatch('missing-transfer', { invoiceId: v.string(), starkId: v.string(), creditedCents: cents }),
  mismatch('amount-differs', {
    invoiceId: v.string(),
    transferId: v.string(),
    creditedCents: cents,
    transferredCents: cents,
  }),
  mismatch('transfer-failed', { invoiceId: v.string(), transferId: v.string(), amountCents: cents }),
  mismatch('transfer-dead', {
    invoiceId: v.string(),
    transferId: v.string(),
    amountCents: cents,
    reason: v.string(),
  }),
  mismatch('transfer-late', {
    invoiceId: v.string(),
    transferId: v.string(),
    amountCents: cents,
    since: time,
  }),
  mismatch('transfer-without-credit', {
    transferId: v.string(),
    invoiceStarkId: v.string(),
    amountCents: cents,
  }),
])

export const Anomaly = v.variant('kind', [
  mismatch('event', { eventId: v.string(), subjectId: v.nullable(v.string()), outcome: v.string() }),
  mismatch('not-issued', { invoiceId: v.string(), starkId: v.string(), creditedCents: cents }),
])

export const DayTotals = v.strictObject({
  day,
  invoices: count,
  creditedCents: cents,
  transfersCreatedCents: cents,
  transfersConfirmedCents: cents,
  pendingCents: cents,
  heldCents: cents,
  mismatches: count,
  ok: v.boolean(),
})

const reconciliation = {
  ok: v.boolean(),
  days: v.array(DayTotals),
  mismatches: v.array(Mismatch),
  anomalies: v.array(Anomaly),
}

export const ReconciliationBody = v.strictObject(reconciliation)

export const StatusBody = v.strictObject({
  at: time,
  counts: v.strictObject({
    invoices: counts,
    transfers: counts,
    transferBank: counts,
    outbox: v.record(v.string(), counts),
    forwards: counts,
    deadLetters: counts,
    queues: v.array(v.strictObject({ queue: v.string(), messages: count, oldestSentAt: time })),
  }),
  flow: v.strictObject({
    issued: count,
    credited: count,
    queued: count,
    created: count,
    confirmed: count,
    pending: count,
    held: count,
    failed: count,
    dead: count,
  }),
  stripe: v.strictObject({ received: count, delivered: count, pending: count, dead: count }),
  runs: v.array(VIEW_ROWS.runs),
  reconciliation: v.strictObject({ ...reconciliation, from: day }),
  dead: v.array(
    v.strictObject({
      kind: v.picklist(['transfer', 'forward', 'dead-letter']),
      id: v.string(),
      where: v.string(),
      reason: v.string(),
      at: time,
    }),
  ),
})

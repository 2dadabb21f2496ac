import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { transferIdFor, transferLookupTag } from '../../src/domain/transfer.ts'
import type { StarkBankEmulator } from '../../src/emulator/emulator.ts'
import type { StripeDownstream } from '../support/stripe-downstream.ts'
import type { LedgerReader } from './ledger-reader.ts'

// What a chaos run promises, checked against the records of the parties paybridge talks to (the
// emulator's transfers and events, the downstream's verified deliveries) and then against the ledger:
// - every credited invoice gets exactly one transfer, of the FIRST credit's amount − fee;
// - nothing is dead (or held) in the ledger that exists at the bank;
// - nothing Stark Bank got a 200 for is missing from the inbox or dead-lettered;
// - the daily limit holds: Σ transfers created at the bank per UTC day ≤ TRANSFER_MAX_DAILY_AMOUNT;
// - a transfer's final status at the bank (success, failed) is the ledger's.

export interface InvariantReport {
  /** Invoices Stark Bank paid (credited) during the run. */
  credited: number
  /** Transfers Stark Bank holds. */
  transfers: number
  /** Credited invoices with no transfer at the bank (rows rightly held over the daily limit excepted). */
  lost: number
  /** Credited invoices with more than one transfer (by externalId or by lookup tag). */
  doubled: number
  /** Transfers whose amount is not the first credit's amount − fee. */
  wrongAmount: number
  /** Transfers for no credited invoice. */
  orphanTransfers: number
  /** Ledger transfers `dead` or `held` although the bank has them. */
  wronglyDead: number
  /** Ledger transfers held (waiting for `ledger approve`) that the bank does not have: over the limit. */
  held: number
  /** The largest Σ of transfers the bank created in one UTC day, and the limit it must stay under. */
  maxDailyAmount: number
  dailyLimit: number
  limitHeld: boolean
  /** Transfers whose final bank status (success/failed) the ledger does not show. */
  statusMismatches: number
  /** Stark Bank events not in the ledger's inbox. */
  eventsMissing: number
  /** Of those, events a webhook delivery got a 200 for: acknowledged, then lost. */
  ackedLost: number
  /** The slowest answer paybridge gave a Stark Bank webhook delivery (a timeout counts as its limit). */
  slowestWebhookMs: number
  /** Credited invoices whose ledger row is not `created` with the bank's transfer id and amount. */
  ledgerMismatches: number
  stripeEvents: number
  /** Stripe events the downstream never answered 2xx. */
  stripeLost: number
  /** Extra 2xx deliveries of events already delivered (at-least-once, counted). */
  stripeDuplicates: number
  /** Events the downstream got twice or more. */
  stripeEventsDuplicated: number
  /** Requests whose Stripe-Signature the downstream refused. */
  stripeUnverified: number
  /** Forwards the ledger does not hold as delivered. */
  stripeLedgerMismatches: number
  deadLetters: number
  /** Messages still in the SQS dead-letter queues. */
  sqsDeadLettered: number
  outboxOpen: number
  /** `ledger reconcile`'s verdict at the end: ok, mismatch, or n/a (not on this ledger). */
  reconcile: 'ok' | 'mismatch' | 'n/a'
}

export interface Parties {
  emulator: StarkBankEmulator
  downstream: StripeDownstream
  ledger: LedgerReader
  stripeIds: string[]
  dailyLimit: number
}

interface LedgerTransfer {
  invoice: string
  amount: number
  status: string
  starkId: string | null
  bankStatus: string | null
}

const count = async (ledger: LedgerReader, sql: string) =>
  Number((await ledger.all<{ n: number }>(sql))[0]?.n ?? 0)

/** Amount and fee of each invoice's first `credited` log: what its one transfer pays out. */
function firstCredits(emulator: StarkBankEmulator): Map<string, { amount: number; fee: number }> {
  const first = new Map<string, { amount: number; fee: number }>()
  for (const event of emulator.events()) {
    if (event.subscription !== 'invoice' || event.log.type !== 'credited') continue
    const { id, amount, fee } = event.log.invoice
    if (!first.has(id)) first.set(id, { amount, fee })
  }
  return first
}

/** Everything measured at one moment; the settle loop polls it, the report is its last value. */
export async function measure(parties: Parties): Promise<InvariantReport & { unpaidInvoices: number }> {
  const { emulator, downstream, ledger, stripeIds } = parties
  const invoices = emulator.invoices()
  const credits = firstCredits(emulator)
  const transfers = emulator.transfers()
  const byExternal = new Map(transfers.map((t) => [t.externalId, t]))
  const rows = await ledger.all<LedgerTransfer>(
    'select invoice_stark_id as "invoice", amount, status, stark_id as "starkId", bank_status as "bankStatus" from transfers',
  )
  // PostgreSQL hands bigint cents back as strings.
  for (const r of rows) r.amount = Number(r.amount)
  const rowByInvoice = new Map(rows.map((r) => [r.invoice, r]))

  let lost = 0
  let doubled = 0
  let wrongAmount = 0
  let ledgerMismatches = 0
  for (const [invoiceId, credit] of credits) {
    const mine = transfers.filter((t) => t.externalId === transferIdFor(invoiceId))
    const byTag = transfers.filter((t) => t.tags.includes(transferLookupTag(invoiceId)))
    const copies = Math.max(mine.length, byTag.length)
    const row = rowByInvoice.get(invoiceId)
    const rightlyHeld = row?.status === 'held' && copies === 0
    if (copies === 0 && !rightlyHeld && credit.amount - credit.fee > 0) lost++
    if (copies > 1) doubled++
    wrongAmount += mine.filter((t) => t.amount !== credit.amount - credit.fee).length
    const bank = mine[0]
    if (
      !rightlyHeld &&
      bank &&
      (row?.status !== 'created' || row.starkId !== bank.id || row.amount !== bank.amount)
    )
      ledgerMismatches++
  }
  const wronglyDead = rows.filter(
    (r) => (r.status === 'dead' || r.status === 'held') && byExternal.has(transferIdFor(r.invoice)),
  ).length
  const held = rows.filter((r) => r.status === 'held' && !byExternal.has(transferIdFor(r.invoice))).length
  const statusMismatches = rows.filter((r) => {
    const bank = byExternal.get(transferIdFor(r.invoice))
    return (bank?.status === 'success' || bank?.status === 'failed') && r.bankStatus !== bank.status
  }).length

  const perDay = new Map<string, number>()
  for (const t of transfers)
    perDay.set(t.created.slice(0, 10), (perDay.get(t.created.slice(0, 10)) ?? 0) + t.amount)
  const maxDailyAmount = Math.max(0, ...perDay.values())

  const inbox = new Set(
    (await ledger.all<{ id: string }>("select id from events where source = 'starkbank'")).map((r) => r.id),
  )
  const events = emulator.events()
  const missing = events.filter((e) => !inbox.has(e.id))
  const forwards = new Map(
    (await ledger.all<{ id: string; status: string }>('select id, status from forwards')).map((r) => [
      r.id,
      r.status,
    ]),
  )
  const delivered = downstream.deliveredCounts()
  const extra = stripeIds.map((id) => Math.max(0, (delivered.get(id) ?? 0) - 1))
  const paidIds = new Set([...credits.keys()].map(transferIdFor))

  return {
    unpaidInvoices: invoices.filter((i) => i.status === 'created').length,
    credited: credits.size,
    transfers: transfers.length,
    lost,
    doubled,
    wrongAmount,
    orphanTransfers: transfers.filter((t) => !paidIds.has(t.externalId)).length,
    wronglyDead,
    held,
    maxDailyAmount,
    dailyLimit: parties.dailyLimit,
    limitHeld: maxDailyAmount <= parties.dailyLimit,
    statusMismatches,
    eventsMissing: missing.length,
    slowestWebhookMs: Math.max(0, ...events.flatMap((e) => e.attempts.map((a) => a.ms))),
    ackedLost: missing.filter((e) => e.attempts.some((a) => a.status === 200)).length,
    ledgerMismatches,
    stripeEvents: stripeIds.length,
    stripeLost: stripeIds.filter((id) => !delivered.has(id)).length,
    stripeDuplicates: extra.reduce((a, b) => a + b, 0),
    stripeEventsDuplicated: extra.filter((e) => e > 0).length,
    stripeUnverified: downstream.deliveries.filter((d) => !d.verified).length,
    stripeLedgerMismatches: stripeIds.filter((id) => forwards.get(id) !== 'delivered').length,
    deadLetters: await count(ledger, 'select cast(count(*) as integer) as n from dead_letters'),
    sqsDeadLettered: 0,
    reconcile: 'n/a',
    outboxOpen: await count(
      ledger,
      "select cast(count(*) as integer) as n from outbox where status in ('pending', 'in_flight')",
    ),
  }
}

/** What the run still waits for; all zero once the books balance. */
export interface Pending {
  unpaidInvoices: number
  creditedWithoutTransfer: number
  /** Events not in the inbox yet (webhooks in flight or given up on: a gap fill brings those in). */
  eventsMissing: number
  statusMismatches: number
  stripeNotDelivered: number
  outboxOpen: number
}

export async function pending(parties: Parties): Promise<Pending> {
  try {
    const m = await measure(parties)
    return {
      unpaidInvoices: m.unpaidInvoices,
      creditedWithoutTransfer: m.lost,
      eventsMissing: m.eventsMissing,
      statusMismatches: m.statusMismatches,
      stripeNotDelivered: m.stripeLost,
      outboxOpen: m.outboxOpen,
    }
  } catch {
    // The ledger cannot be read right now (busy, server down): nothing is settled yet.
    return {
      unpaidInvoices: -1,
      creditedWithoutTransfer: -1,
      eventsMissing: -1,
      statusMismatches: -1,
      stripeNotDelivered: -1,
      outboxOpen: -1,
    }
  }
}

export const converged = (p: Pending) => Object.values(p).every((v) => v === 0)

/** Messages in `<name>-dlq` for each queue (none when the queue has no DLQ, or SQS lost it). */
export async function sqsDeadLettered(sqs: SQSClient, queues: string[]): Promise<number> {
  let total = 0
  for (const name of queues) {
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${name}-dlq` }))
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
      total +=
        Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    } catch {
      // No dead-letter queue: nothing was dead-lettered there.
    }
  }
  return total
}

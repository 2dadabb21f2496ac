import { Database } from 'bun:sqlite'
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { StarkBankEmulator } from '../../src/adapters/starkbank/emulator.ts'
import { transferIdFor, transferLookupTag } from '../../src/domain/transfer.ts'
import type { StripeDownstream } from '../support/stripe-downstream.ts'

// What a chaos run promises, checked against the records of the parties paybridge talks to (the
// emulator's transfers, the downstream's verified deliveries) and then against paybridge's ledger.

export interface InvariantReport {
  /** Invoices Stark Bank paid (credited) during the run. */
  credited: number
  /** Transfers Stark Bank holds. */
  transfers: number
  /** Credited invoices with no transfer. */
  lost: number
  /** Credited invoices with more than one transfer (by externalId or by lookup tag). */
  doubled: number
  /** Transfers whose amount is not the invoice's amount − fee. */
  wrongAmount: number
  /** Transfers for no credited invoice. */
  orphanTransfers: number
  /** Stark Bank events not in the ledger's inbox. */
  eventsMissing: number
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
  /** Messages SQS moved to the dead-letter queues. */
  sqsDeadLettered: number
  outboxOpen: number
}

export interface ChaosReport extends InvariantReport {
  cycles: number
  starts: number
  faults: Record<string, number>
  cliEnqueues: number
  /** `events sync` runs the settle phase needed (webhooks Stark Bank gave up on). */
  eventsSyncs: number
  /** What was still missing when the settle phase ended. */
  waitingFor: Pending
  settled: boolean
  faultPhaseSeconds: number
  totalSeconds: number
  dir: string | undefined
  /** paybridge's logs when something is wrong. */
  logs: string
}

interface Parties {
  emulator: StarkBankEmulator
  downstream: StripeDownstream
  ledgerPath: string
  stripeIds: string[]
}

function readLedger<T>(path: string, read: (db: Database) => T): T {
  const db = new Database(path, { readonly: true })
  try {
    db.exec('PRAGMA busy_timeout = 2000')
    return read(db)
  } finally {
    db.close()
  }
}

const n = (db: Database, sql: string) => (db.query(sql).get() as { n: number }).n

/** What the run still waits for; all zero once the books balance. */
export interface Pending {
  unpaidInvoices: number
  creditedWithoutTransfer: number
  /** Events Stark Bank gave up delivering by webhook: only a gap fill brings them in. */
  undeliveredEvents: number
  stripeNotDelivered: number
  outboxOpen: number
}

export function pending({ emulator, downstream, ledgerPath, stripeIds }: Parties): Pending {
  const invoices = emulator.invoices()
  const byExternal = new Set(emulator.transfers().map((t) => t.externalId))
  const delivered = downstream.deliveredCounts()
  let outboxOpen: number
  try {
    outboxOpen = readLedger(ledgerPath, (db) =>
      n(db, "select count(*) as n from outbox where status in ('pending', 'in_flight')"),
    )
  } catch {
    outboxOpen = -1
  }
  return {
    unpaidInvoices: invoices.filter((i) => i.status === 'created').length,
    creditedWithoutTransfer: invoices.filter(
      (i) => i.status === 'paid' && !byExternal.has(transferIdFor(i.id)),
    ).length,
    undeliveredEvents: emulator.events().filter((e) => !e.isDelivered).length,
    stripeNotDelivered: stripeIds.filter((id) => !delivered.has(id)).length,
    outboxOpen,
  }
}

/** Every credited invoice has a transfer, every Stripe event was delivered, the outbox is empty. */
export function converged(parties: Parties): boolean {
  const p = pending(parties)
  return [p.unpaidInvoices, p.creditedWithoutTransfer, p.stripeNotDelivered, p.outboxOpen].every(
    (v) => v === 0,
  )
}

export async function checkInvariants(
  parties: Parties & { sqs: SQSClient; queues: string[] },
): Promise<InvariantReport> {
  const { emulator, downstream, ledgerPath, stripeIds } = parties
  const paid = emulator.invoices().filter((i) => i.status === 'paid')
  const transfers = emulator.transfers()
  const paidIds = new Set(paid.map((i) => transferIdFor(i.id)))
  let lost = 0
  let doubled = 0
  let wrongAmount = 0
  for (const invoice of paid) {
    const byExternal = transfers.filter((t) => t.externalId === transferIdFor(invoice.id))
    const byTag = transfers.filter((t) => t.tags.includes(transferLookupTag(invoice.id)))
    const copies = Math.max(byExternal.length, byTag.length)
    if (copies === 0) lost++
    if (copies > 1) doubled++
    wrongAmount += byExternal.filter((t) => t.amount !== invoice.amount - invoice.fee).length
  }
  const orphanTransfers = transfers.filter((t) => !paidIds.has(t.externalId ?? '')).length

  const ledger = readLedger(ledgerPath, (db) => {
    const rows = db
      .query('select invoice_stark_id as invoice, amount, status, stark_id as starkId from transfers')
      .all() as {
      invoice: string
      amount: number
      status: string
      starkId: string | null
    }[]
    const byInvoice = new Map(rows.map((r) => [r.invoice, r]))
    const ledgerMismatches = paid.filter((invoice) => {
      const row = byInvoice.get(invoice.id)
      const bank = transfers.find((t) => t.externalId === transferIdFor(invoice.id))
      return row?.status !== 'created' || row.starkId !== bank?.id || row.amount !== bank?.amount
    }).length
    const inbox = new Set(
      (db.query("select id from events where source = 'starkbank'").all() as { id: string }[]).map(
        (r) => r.id,
      ),
    )
    const forwards = new Map(
      (db.query('select id, status from forwards').all() as { id: string; status: string }[]).map((r) => [
        r.id,
        r.status,
      ]),
    )
    return {
      ledgerMismatches,
      eventsMissing: emulator.events().filter((e) => !inbox.has(e.id)).length,
      stripeLedgerMismatches: stripeIds.filter((id) => forwards.get(id) !== 'delivered').length,
      deadLetters: n(db, 'select count(*) as n from dead_letters'),
      outboxOpen: n(db, "select count(*) as n from outbox where status not in ('done')"),
    }
  })

  const delivered = downstream.deliveredCounts()
  const stripeLost = stripeIds.filter((id) => !delivered.has(id)).length
  const extra = stripeIds.map((id) => Math.max(0, (delivered.get(id) ?? 0) - 1))

  let sqsDeadLettered = 0
  for (const name of parties.queues) {
    try {
      const { QueueUrl } = await parties.sqs.send(new GetQueueUrlCommand({ QueueName: `${name}-dlq` }))
      const { Attributes } = await parties.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
      sqsDeadLettered +=
        Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    } catch {
      // No dead-letter queue (a volatile SQS lost it): nothing was dead-lettered there.
    }
  }

  return {
    credited: paid.length,
    transfers: transfers.length,
    lost,
    doubled,
    wrongAmount,
    orphanTransfers,
    stripeEvents: stripeIds.length,
    stripeLost,
    stripeDuplicates: extra.reduce((a, b) => a + b, 0),
    stripeEventsDuplicated: extra.filter((e) => e > 0).length,
    stripeUnverified: downstream.deliveries.filter((d) => !d.verified).length,
    sqsDeadLettered,
    ...ledger,
  }
}

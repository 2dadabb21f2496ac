import { plannedInvoiceIdIn } from './invoice-batch.ts'
import { brl } from './money.ts'

/** A Stark Bank webhook event, as validated at the edge (only the fields paybridge reads). */
export interface BankEvent {
  id: string
  subscription: string
  created: string
  log: {
    id: string
    type: string
    /** `fee` is absent only on logs that are not credits (the edge refuses a credit without one). */
    invoice?: { id: string; amount: number; fee?: number; status: string; tags: string[] }
    transfer?: { id: string; amount: number; status: string; externalId?: string; tags: string[] }
  }
}

/**
 * Which credited invoices paybridge pays out: `issued`, only those it issued (its invoice tag, or a
 * planned invoice of a run matched by Stark Bank id); `all`, every invoice of the workspace.
 */
export type PayoutScope = 'issued' | 'all'

export const PAYOUT_SCOPES: readonly PayoutScope[] = ['issued', 'all']

/** What a credited log says: the invoice, what it was paid, and the planned invoice its tag names. */
interface CreditFacts {
  invoiceId: string
  amount: number
  fee: number
  /** Our id of the planned invoice, from paybridge's invoice tag; null when it has none. */
  plannedId: string | null
}

export type EventDecision =
  | ({ kind: 'credit'; credited: number; scope: PayoutScope } & CreditFacts)
  | ({ kind: 'no-transfer'; reason: string } & CreditFacts)
  | { kind: 'transfer-update'; transferId: string; externalId: string | null; status: string }
  | { kind: 'ignore'; reason: string }

export type CreditDecision = Extract<EventDecision, { kind: 'credit' | 'no-transfer' }>
export type TransferUpdate = Extract<EventDecision, { kind: 'transfer-update' }>

/**
 * What a Stark Bank event means for paybridge, from the event alone. A credited invoice is paid out
 * as amount − fee (whether it is the first credit, and whether `scope` lets paybridge pay it, is
 * settled against the ledger by `settleCredit`); an event that is not a credit creates nothing.
 */
export function decideBankEvent(event: BankEvent, scope: PayoutScope): EventDecision {
  switch (event.subscription) {
    case 'invoice': {
      const invoice = event.log.invoice
      if (event.log.type !== 'credited') return { kind: 'ignore', reason: `invoice log "${event.log.type}"` }
      if (!invoice) return { kind: 'ignore', reason: 'credited log without an invoice' }
      const { fee } = invoice
      if (fee === undefined) return { kind: 'ignore', reason: 'credited log without a fee' }
      const facts: CreditFacts = {
        invoiceId: invoice.id,
        amount: invoice.amount,
        fee,
        plannedId: plannedInvoiceIdIn(invoice.tags),
      }
      const credited = invoice.amount - fee
      if (credited <= 0) {
        return {
          kind: 'no-transfer',
          ...facts,
          reason: `credited amount ${brl(credited)} ≤ 0 (amount ${brl(invoice.amount)}, fee ${brl(fee)})`,
        }
      }
      return { kind: 'credit', ...facts, credited, scope }
    }
    case 'transfer': {
      const transfer = event.log.transfer
      if (!transfer) return { kind: 'ignore', reason: 'transfer log without a transfer' }
      return {
        kind: 'transfer-update',
        transferId: transfer.id,
        externalId: transfer.externalId ?? null,
        status: transfer.status,
      }
    }
    default:
      return { kind: 'ignore', reason: `subscription "${event.subscription}"` }
  }
}

/** The transfer update an inbox payload (`{"event": …}`, stored as validated) carries, if any. */
export function transferUpdateIn(payload: string): TransferUpdate | undefined {
  const event = (JSON.parse(payload) as { event?: BankEvent }).event
  if (event?.subscription !== 'transfer') return undefined
  const decision = decideBankEvent(event, 'issued')
  return decision.kind === 'transfer-update' ? decision : undefined
}

/** The ordering group of an event on FIFO queues: one invoice's (or transfer's) events stay in order. */
export function eventGroup(event: BankEvent): string {
  return event.log.invoice?.id ?? event.log.transfer?.id ?? event.id
}

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

export type EventDecision =
  | { kind: 'credit'; invoiceId: string; amount: number; fee: number; credited: number }
  | { kind: 'no-transfer'; invoiceId: string; amount: number; fee: number; reason: string }
  | { kind: 'transfer-update'; transferId: string; status: string }
  | { kind: 'ignore'; reason: string }

/**
 * What a Stark Bank event means for paybridge. A credited invoice is paid out as amount − fee; an event
 * that is not a credit is recorded and creates nothing.
 */
export function decideBankEvent(event: BankEvent): EventDecision {
  switch (event.subscription) {
    case 'invoice': {
      const invoice = event.log.invoice
      if (event.log.type !== 'credited') return { kind: 'ignore', reason: `invoice log "${event.log.type}"` }
      if (!invoice) return { kind: 'ignore', reason: 'credited log without an invoice' }
      const { fee } = invoice
      if (fee === undefined) return { kind: 'ignore', reason: 'credited log without a fee' }
      const credited = invoice.amount - fee
      if (credited <= 0) {
        return {
          kind: 'no-transfer',
          invoiceId: invoice.id,
          amount: invoice.amount,
          fee,
          reason: `credited amount ${credited} ≤ 0 (amount ${invoice.amount}, fee ${fee})`,
        }
      }
      return { kind: 'credit', invoiceId: invoice.id, amount: invoice.amount, fee, credited }
    }
    case 'transfer': {
      const transfer = event.log.transfer
      if (!transfer) return { kind: 'ignore', reason: 'transfer log without a transfer' }
      return { kind: 'transfer-update', transferId: transfer.id, status: transfer.status }
    }
    default:
      return { kind: 'ignore', reason: `subscription "${event.subscription}"` }
  }
}

/** The ordering group of an event on FIFO queues: one invoice's (or transfer's) events stay in order. */
export function eventGroup(event: BankEvent): string {
  return event.log.invoice?.id ?? event.log.transfer?.id ?? event.id
}

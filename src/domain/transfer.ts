/** Where credited money goes; from config, copied into each transfer when it is planned. */
export interface Destination {
  name: string
  taxId: string
  bankCode: string
  branchCode: string
  accountNumber: string
  accountType: string
}

export interface TransferPlan extends Destination {
  /** Also the ledger id. Stark Bank refuses a second transfer with the same externalId. */
  externalId: string
  amount: number
  tags: string[]
}

export const TRANSFER_TAG = 'paybridge-transfer'

/** The transfer tag that lets a retry look up what Stark Bank holds (it cannot filter by externalId). */
export function transferLookupTag(invoiceId: string): string {
  return `paybridge-for-invoice-${invoiceId}`.toLowerCase()
}

/** The ledger id and Stark Bank externalId of the one transfer an invoice can have. */
export function transferIdFor(invoiceId: string): string {
  return `paybridge-invoice-${invoiceId}`
}

/** One transfer per credited invoice: its identity derives from the invoice id alone. */
export function planTransfer(invoiceId: string, credited: number, destination: Destination): TransferPlan {
  if (!Number.isSafeInteger(credited) || credited <= 0)
    throw new RangeError(`bad transfer amount ${credited}`)
  return {
    ...destination,
    externalId: transferIdFor(invoiceId),
    amount: credited,
    tags: [TRANSFER_TAG, transferLookupTag(invoiceId)],
  }
}

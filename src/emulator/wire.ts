/** The JSON shapes the emulator speaks, as the Stark Bank v2 API sends them. */

export interface WireError {
  code: string
  message: string
}

export type InvoiceStatus = 'created' | 'paid' | 'canceled' | 'overdue'
export type TransferStatus = 'created' | 'processing' | 'success' | 'failed'

export interface WireInvoice {
  id: string
  amount: number
  nominalAmount: number
  fineAmount: number
  interestAmount: number
  discountAmount: number
  fee: number
  status: InvoiceStatus
  name: string
  taxId: string
  tags: string[]
  due: string
  expiration: number
  fine: number
  interest: number
  descriptions: unknown[]
  discounts: unknown[]
  brcode: string
  link: string
  pdf: string
  transactionIds: string[]
  created: string
  updated: string
}

/** A transfer as a create request holds it (validated). */
export interface TransferInput {
  amount: number
  name: string
  taxId: string
  bankCode: string
  branchCode: string
  accountNumber: string
  accountType: string
  externalId: string
  tags: string[]
  description: string
}

/** A transfer as created: what the request held plus what the bank adds. */
export interface WireTransfer extends TransferInput {
  id: string
  status: TransferStatus
  fee: number
  transactionIds: string[]
  created: string
  updated: string
}

export interface WireInvoiceLog {
  id: string
  type: 'credited'
  created: string
  errors: WireError[]
  invoice: WireInvoice
}

export interface WireTransferLog {
  id: string
  type: TransferStatus
  created: string
  errors: WireError[]
  transfer: WireTransfer
}

interface EventFields {
  id: string
  workspaceId: string
  created: string
  isDelivered: boolean
}

/** An event as `GET /v2/event` lists it; the webhook body is `{"event": ...}` without `isDelivered`. */
export type WireEvent =
  | (EventFields & { subscription: 'invoice'; log: WireInvoiceLog })
  | (EventFields & { subscription: 'transfer'; log: WireTransferLog })

/** Stark Bank's timestamp format: ISO 8601 with microseconds and an explicit offset. */
export function starkTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00')
}

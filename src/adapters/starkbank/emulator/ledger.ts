import type { InvoiceInput, TransferInput } from './validation.ts'
import { starkTime, type WireEvent, type WireInvoice, type WireTransfer } from './wire.ts'

export interface PageRequest {
  limit: number
  /** Opaque; from the previous page. */
  cursor: string | null
}

export interface Page<T> {
  items: T[]
  cursor: string | null
}

export class BadCursorError extends Error {
  override name = 'BadCursorError'
}

const DAY_MS = 86_400_000

// Ids are 16-digit strings like Stark Bank's, increasing, seeded from the clock so that a restarted
// emulator does not hand out ids an earlier run already used.
function idSequence(now: number): () => string {
  let next = 4_000_000_000_000_000 + (now % 1_000_000_000_000) * 1000
  return () => String(++next)
}

function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ before: id })).toString('base64url')
}

function decodeCursor(cursor: string): bigint {
  try {
    const before = JSON.parse(Buffer.from(cursor, 'base64url').toString()).before
    return BigInt(before)
  } catch {
    throw new BadCursorError(`invalid cursor ${cursor}`)
  }
}

/** Newest first, like Stark Bank lists; the cursor points below the last id returned. */
function pageOf<T extends { id: string }>(
  all: T[],
  match: (item: T) => boolean,
  request: PageRequest,
): Page<T> {
  const before = request.cursor ? decodeCursor(request.cursor) : null
  const matching = all
    .filter((item) => (before === null || BigInt(item.id) < before) && match(item))
    .reverse()
  const items = matching.slice(0, request.limit)
  const last = items.at(-1)
  return {
    items: structuredClone(items),
    cursor: matching.length > items.length && last ? encodeCursor(last.id) : null,
  }
}

function hasTags(tags: string[] | undefined): (item: { tags: string[] }) => boolean {
  // Any of the requested tags matches: clients wanting all of them filter the page themselves.
  return (item) => !tags || tags.length === 0 || tags.some((tag) => item.tags.includes(tag))
}

function inList(values: string[] | undefined, value: string): boolean {
  return !values || values.length === 0 || values.includes(value)
}

export interface ListFilter {
  tags?: string[]
  status?: string[]
  ids?: string[]
}

/** In-memory state of one emulated workspace. */
export function emulatorLedger(deps: { now: () => number; fee: (amount: number) => number }) {
  const nextId = idSequence(deps.now())
  const workspaceId = nextId()
  const invoices: WireInvoice[] = []
  const transfers: WireTransfer[] = []
  const events: WireEvent[] = []
  const invoiceById = new Map<string, WireInvoice>()
  const transferById = new Map<string, WireTransfer>()
  const eventById = new Map<string, WireEvent>()
  const externalIds = new Set<string>()
  const feeOf = (amount: number) => Math.max(0, Math.min(amount, Math.round(deps.fee(amount))))

  return {
    workspaceId,

    createInvoices(inputs: InvoiceInput[]): WireInvoice[] {
      const now = deps.now()
      const created = inputs.map((input): WireInvoice => {
        const id = nextId()
        const invoice: WireInvoice = {
          id,
          amount: input.amount,
          nominalAmount: input.amount,
          fineAmount: 0,
          interestAmount: 0,
          discountAmount: 0,
          fee: 0,
          status: 'created',
          name: input.name,
          taxId: input.taxId,
          tags: input.tags,
          due: input.due ?? starkTime(now + 2 * DAY_MS),
          expiration: 5_097_600,
          fine: 2,
          interest: 1,
          descriptions: [],
          discounts: [],
          brcode: `00020101021226890014br.gov.bcb.pix2567emulator.starkbank.local/v2/${id}5204000053039865802BR6304${id.slice(-4)}`,
          link: `https://emulator.sandbox.starkbank.com/invoicelink/${id}`,
          pdf: `https://sandbox.api.starkbank.com/v2/invoice/${id}.pdf`,
          transactionIds: [],
          created: starkTime(now),
          updated: starkTime(now),
        }
        invoices.push(invoice)
        invoiceById.set(id, invoice)
        return invoice
      })
      return structuredClone(created)
    },

    isExternalIdTaken: (externalId: string) => externalIds.has(externalId),

    createTransfers(inputs: TransferInput[]): WireTransfer[] {
      const now = deps.now()
      const created = inputs.map((input): WireTransfer => {
        const transfer: WireTransfer = {
          ...input,
          id: nextId(),
          status: 'created',
          fee: feeOf(input.amount),
          transactionIds: [],
          created: starkTime(now),
          updated: starkTime(now),
        }
        if (input.externalId) externalIds.add(input.externalId)
        transfers.push(transfer)
        transferById.set(transfer.id, transfer)
        return transfer
      })
      return structuredClone(created)
    },

    /** Marks an unpaid invoice paid and records its `credited` event; undefined when not payable. */
    payInvoice(id: string): WireEvent | undefined {
      const invoice = invoiceById.get(id)
      if (invoice?.status !== 'created') return undefined
      const now = starkTime(deps.now())
      invoice.status = 'paid'
      invoice.fee = feeOf(invoice.amount)
      invoice.transactionIds = [nextId()]
      invoice.updated = now
      const event: WireEvent = {
        id: nextId(),
        subscription: 'invoice',
        workspaceId,
        created: now,
        isDelivered: false,
        log: { id: nextId(), type: 'credited', created: now, errors: [], invoice: structuredClone(invoice) },
      }
      events.push(event)
      eventById.set(event.id, event)
      return structuredClone(event)
    },

    setDelivered(id: string, isDelivered: boolean): WireEvent | undefined {
      const event = eventById.get(id)
      if (!event) return undefined
      event.isDelivered = isDelivered
      return structuredClone(event)
    },

    invoice: (id: string) => structuredClone(invoiceById.get(id)),
    transfer: (id: string) => structuredClone(transferById.get(id)),
    event: (id: string) => structuredClone(eventById.get(id)),

    listInvoices: (filter: ListFilter, page: PageRequest) =>
      pageOf(
        invoices,
        (i) => hasTags(filter.tags)(i) && inList(filter.status, i.status) && inList(filter.ids, i.id),
        page,
      ),
    listTransfers: (filter: ListFilter, page: PageRequest) =>
      pageOf(
        transfers,
        (t) => hasTags(filter.tags)(t) && inList(filter.status, t.status) && inList(filter.ids, t.id),
        page,
      ),
    listEvents: (filter: { isDelivered?: boolean }, page: PageRequest) =>
      pageOf(events, (e) => filter.isDelivered === undefined || e.isDelivered === filter.isDelivered, page),

    snapshot: () => ({
      invoices: structuredClone(invoices),
      transfers: structuredClone(transfers),
      events: structuredClone(events),
    }),
  }
}

export type EmulatorLedger = ReturnType<typeof emulatorLedger>

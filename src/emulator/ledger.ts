import { hasTags, inList, type PageRequest, pageOf } from './pages.ts'
import type { InvoiceInput, TransferInput } from './validation.ts'
import {
  starkTime,
  type TransferStatus,
  type WireEvent,
  type WireInvoice,
  type WireTransfer,
} from './wire.ts'

export { BadCursorError, type Page, type PageRequest } from './pages.ts'

const DAY_MS = 86_400_000

// Ids are 16-digit strings like Stark Bank's, increasing, seeded from the clock so that a restarted
// emulator does not hand out ids an earlier run already used.
function idSequence(now: number): () => string {
  let next = 4_000_000_000_000_000 + (now % 1_000_000_000_000) * 1000
  return () => String(++next)
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
  /** Transfer id -> until when list queries do not show it (Stark's lists can lag behind a create). */
  const hiddenUntil = new Map<string, number>()
  const feeOf = (amount: number) => Math.max(0, Math.min(amount, Math.round(deps.fee(amount))))

  function record(event: WireEvent): WireEvent {
    events.push(event)
    eventById.set(event.id, event)
    return structuredClone(event)
  }

  function credit(invoice: WireInvoice): WireEvent {
    const now = starkTime(deps.now())
    invoice.fee = feeOf(invoice.amount)
    invoice.transactionIds = [...invoice.transactionIds, nextId()]
    invoice.updated = now
    return record({
      id: nextId(),
      subscription: 'invoice',
      workspaceId,
      created: now,
      isDelivered: false,
      log: { id: nextId(), type: 'credited', created: now, errors: [], invoice: structuredClone(invoice) },
    })
  }

  return {
    workspaceId,
    /** The next id of the workspace's single sequence (for the other things it holds). */
    nextId,

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

    /** `hideFromListsMs`: how long list queries do not show the new transfers (lookup lag). */
    createTransfers(inputs: TransferInput[], hideFromListsMs = 0): WireTransfer[] {
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
        if (hideFromListsMs > 0) hiddenUntil.set(transfer.id, now + hideFromListsMs)
        return transfer
      })
      return structuredClone(created)
    },

    /**
     * Marks an unpaid invoice paid and records its `credited` event; undefined when not payable. A late
     * payment adds fine and interest: the credited amount is then more than the nominal amount.
     */
    payInvoice(id: string, late?: { fineAmount: number; interestAmount: number }): WireEvent | undefined {
      const invoice = invoiceById.get(id)
      if (invoice?.status !== 'created') return undefined
      invoice.status = 'paid'
      if (late) {
        invoice.fineAmount = late.fineAmount
        invoice.interestAmount = late.interestAmount
        invoice.amount = invoice.nominalAmount + late.fineAmount + late.interestAmount
      }
      return credit(invoice)
    },

    /** A second `credited` log for a paid invoice (another payment), `extraAmount` more; undefined when unpaid. */
    creditAgain(id: string, extraAmount: number): WireEvent | undefined {
      const invoice = invoiceById.get(id)
      if (invoice?.status !== 'paid') return undefined
      invoice.amount += extraAmount
      return credit(invoice)
    },

    /** Moves a transfer to `status` and records its transfer event; undefined when unknown. */
    setTransferStatus(id: string, status: TransferStatus): WireEvent | undefined {
      const transfer = transferById.get(id)
      if (!transfer) return undefined
      const now = starkTime(deps.now())
      transfer.status = status
      transfer.updated = now
      return record({
        id: nextId(),
        subscription: 'transfer',
        workspaceId,
        created: now,
        isDelivered: false,
        log: { id: nextId(), type: status, created: now, errors: [], transfer: structuredClone(transfer) },
      })
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
        (t) =>
          (hiddenUntil.get(t.id) ?? 0) <= deps.now() &&
          hasTags(filter.tags)(t) &&
          inList(filter.status, t.status) &&
          inList(filter.ids, t.id),
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

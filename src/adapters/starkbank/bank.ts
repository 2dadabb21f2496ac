import http from 'node:http'
import { createRequire } from 'node:module'
import net from 'node:net'
import starkbank from 'starkbank'
import type { Bank, BankInvoice, BankTransfer, NewInvoice, NewTransfer } from '../../ports/bank.ts'
import { starkAccount } from './account.ts'
import { sdkCall as call, toBankError } from './bank-errors.ts'
import { signSdkRequestsNatively } from './sdk-signing.ts'
import { starkWebhooks } from './webhooks.ts'

export interface StarkBankOptions {
  projectId: string
  privateKeyPem: string
  environment: 'sandbox' | 'production'
  /**
   * Sends the SDK's requests to this base URL (e.g. `http://127.0.0.1:9100`, the emulator) as plain
   * HTTP instead of Stark Bank's hosts. The SDK's transport hook is process-global: the last
   * `starkBank({ apiUrl })` decides where every instance in the process talks to.
   */
  apiUrl?: string | undefined
  /** Per-request timeout. Also process-global: it is set on the axios instance the SDK shares. */
  timeoutMs: number
}

const require = createRequire(import.meta.url)
// The SDK builds its own axios calls with no timeout; the only handle is the axios module starkcore loads.
function setSdkTimeout(timeoutMs: number): void {
  const starkcoreRequire = createRequire(require.resolve('starkcore'))
  starkcoreRequire('axios').default.defaults.timeout = timeoutMs
}

// The SDK always builds https://<fixed host>/v2/... URLs; an agent that claims https but dials the given
// port plainly is its only way to reach anything else.
function routeSdkTo(apiUrl: string): void {
  const { hostname, port, protocol } = new URL(apiUrl)
  if (protocol !== 'http:') throw new Error(`apiUrl must be plain http://host:port, got ${apiUrl}`)
  const agent = new http.Agent({ keepAlive: true }) as http.Agent & { protocol: string }
  agent.protocol = 'https:'
  const target = { host: hostname, port: Number(port || 80) }
  agent.createConnection = ((_options: unknown, callback: () => void) =>
    net.connect(target, callback)) as unknown as typeof agent.createConnection
  starkbank.setHttpsAgent(agent)
}

async function pages<T>(fetchPage: (cursor: string | null) => Promise<[T[], string | null]>): Promise<T[]> {
  const all: T[] = []
  let cursor: string | null = null
  do {
    const [items, next]: [T[], string | null] = await fetchPage(cursor)
    all.push(...items)
    cursor = next
  } while (cursor)
  return all
}

function hasEvery(tags: string[]): (item: { tags?: string[] | null }) => boolean {
  return (item) => tags.every((tag) => item.tags?.includes(tag))
}

function lowerTags(tags: string[]): string[] {
  if (tags.length === 0) throw new Error('finding by tags needs at least one tag')
  return tags.map((t) => t.toLowerCase())
}

type SdkInvoice = {
  id?: string | null
  amount: number
  fee?: number | null
  status?: string | null
  tags?: string[] | null
}
type SdkTransfer = {
  id?: string | null
  amount: number
  status?: string | null
  externalId?: string | null
  tags?: string[] | null
}

const toBankInvoice = (i: SdkInvoice): BankInvoice => ({
  id: String(i.id),
  amount: i.amount,
  fee: i.fee ?? 0,
  status: i.status ?? 'created',
  tags: i.tags ?? [],
})

const toBankTransfer = (t: SdkTransfer): BankTransfer => ({
  id: String(t.id),
  amount: t.amount,
  status: t.status ?? 'created',
  externalId: t.externalId ?? '',
  tags: t.tags ?? [],
})

function cents(amount: number): number {
  if (!Number.isSafeInteger(amount)) throw new Error(`amount must be integer cents, got ${amount}`)
  return amount
}

interface RawResponse {
  status: number
  content: unknown
}
interface RawRequests {
  get(path: string, query: Record<string, string | number>, options: { user: unknown }): Promise<RawResponse>
  patch(path: string, body: unknown, options: { user: unknown }): Promise<RawResponse>
}

/** The body of a raw SDK response, or the BankError its status means. */
function okJson(res: RawResponse, action: string): unknown {
  if (res.status < 400) return res.content
  throw toBankError(action, {
    status: res.status,
    response: { status: res.status, data: res.content },
  })
}

/** The Bank port over the official starkbank SDK. The project is passed on every call, never set globally. */
export function starkBank(options: StarkBankOptions): Bank {
  const user = new starkbank.Project({
    id: options.projectId,
    privateKey: options.privateKeyPem,
    environment: options.environment,
  })
  if (options.apiUrl) routeSdkTo(options.apiUrl)
  setSdkTimeout(options.timeoutMs)
  signSdkRequestsNatively()
  const sdkRest = require('starkbank/sdk/utils/rest.js') as { getPublicKey(user: unknown): Promise<string> }
  const sdkRequest = (starkbank as unknown as { request: RawRequests }).request

  return {
    async createInvoices(invoices: NewInvoice[]) {
      if (invoices.length === 0) return []
      const sdkInvoices = invoices.map(
        (i) => new starkbank.Invoice({ amount: cents(i.amount), name: i.name, taxId: i.taxId, tags: i.tags }),
      )
      const created = await call('create invoices', () => starkbank.invoice.create(sdkInvoices, { user }))
      return created.map(toBankInvoice)
    },

    async findInvoices(tags: string[]) {
      const wanted = lowerTags(tags)
      const found = await call('find invoices', () =>
        pages((cursor) => starkbank.invoice.page({ tags: wanted, cursor, limit: 100, user })),
      )
      return found.filter(hasEvery(wanted)).map(toBankInvoice)
    },

    async createTransfers(transfers: NewTransfer[]) {
      if (transfers.length === 0) return []
      const sdkTransfers = transfers.map(
        (t) =>
          new starkbank.Transfer({
            amount: cents(t.amount),
            name: t.name,
            taxId: t.taxId,
            bankCode: t.bankCode,
            branchCode: t.branchCode,
            accountNumber: t.accountNumber,
            accountType: t.accountType,
            externalId: t.externalId,
            tags: t.tags,
          }),
      )
      const created = await call('create transfers', () => starkbank.transfer.create(sdkTransfers, { user }))
      return created.map(toBankTransfer)
    },

    async findTransfers(tags: string[]) {
      const wanted = lowerTags(tags)
      const found = await call('find transfers', () =>
        pages((cursor) => starkbank.transfer.page({ tags: wanted, cursor, limit: 100, user })),
      )
      return found.filter(hasEvery(wanted)).map(toBankTransfer)
    },

    publicKey: () => call('fetch the public key', () => sdkRest.getPublicKey(user)),

    // The SDK's event.page drops `isDelivered: false` from the query (it skips falsy values), so the
    // raw request API is used; it returns errors as responses instead of throwing them.
    async undeliveredEvents(cursor) {
      const query: Record<string, string | number> = { isDelivered: 'false', limit: 100 }
      if (cursor) query.cursor = cursor
      const res = await call('list undelivered events', () => sdkRequest.get('event', query, { user }))
      const json = okJson(res, 'list undelivered events') as {
        cursor?: string | null
        events?: { id: string }[]
      }
      return {
        events: (json.events ?? []).map((raw) => ({ id: String(raw.id), raw })),
        cursor: json.cursor ?? null,
      }
    },

    async markEventDelivered(id) {
      const res = await call('mark event delivered', () =>
        sdkRequest.patch(`event/${encodeURIComponent(id)}`, { isDelivered: true }, { user }),
      )
      okJson(res, 'mark event delivered')
    },

    ...starkWebhooks(user),
    ...starkAccount({ user, ...options }),
  }
}

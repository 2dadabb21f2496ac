import http from 'node:http'
import { createRequire } from 'node:module'
import net from 'node:net'
import starkbank from 'starkbank'
import {
  type Bank,
  BankError,
  type BankErrorDetail,
  type BankInvoice,
  type BankTransfer,
  type NewInvoice,
  type NewTransfer,
} from '../../ports/bank.ts'

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
const NETWORK_CODES = new Set([
  'ECONNABORTED',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
])

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

function retryAfterMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** Statuses that mean "not now, try again" (request timeout, too early, too many requests). */
const TRANSIENT_4XX = new Set([408, 425, 429])

function detailsOf(errors: unknown): BankErrorDetail[] {
  if (!Array.isArray(errors)) return []
  return errors.map((e: { code?: unknown; message?: unknown }) => ({
    code: String(e?.code ?? 'unknown'),
    message: String(e?.message ?? ''),
  }))
}

interface SdkFailure {
  errors?: unknown
  status?: number
  code?: string
  message?: string
  isAxiosError?: boolean
  response?: { status: number; data?: unknown; headers?: Record<string, unknown> }
}

/** Maps whatever the SDK threw; errors that are not the bank's or the network's are rethrown as they are. */
function toBankError(action: string, thrown: unknown): unknown {
  if (thrown instanceof BankError || typeof thrown !== 'object' || thrown === null) return thrown
  const e = thrown as SdkFailure
  // starkcore's InputErrors (400): check the shape, the class may come from another starkcore copy.
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    const details = detailsOf(e.errors)
    const reasons = details.map((d) => `${d.code}: ${d.message}`).join('; ')
    return new BankError('rejected', `${action} rejected: ${reasons}`, details, e.status ?? 400)
  }
  const status = e.response?.status ?? e.status
  if (typeof status === 'number') {
    const details = detailsOf((e.response?.data as { errors?: unknown } | undefined)?.errors)
    if (status >= 500 || TRANSIENT_4XX.has(status)) {
      const after = retryAfterMs(e.response?.headers?.['retry-after'])
      return new BankError('transient', `${action} failed: HTTP ${status}`, details, status, after)
    }
    // Only Stark Bank's own error list is its refusal; without it the 4xx came from elsewhere.
    if (details.length === 0)
      return new BankError(
        'blocked',
        `${action} refused: HTTP ${status} without Stark Bank's error list`,
        [],
        status,
      )
    const reasons = details.map((d) => `${d.code}: ${d.message}`).join('; ')
    return new BankError('rejected', `${action} rejected: ${reasons}`, details, status)
  }
  if (e.isAxiosError || (e.code && NETWORK_CODES.has(e.code))) {
    return new BankError('transient', `${action} failed: ${e.code ?? e.message ?? 'network error'}`)
  }
  return thrown
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
  const sdkRest = require('starkbank/sdk/utils/rest.js') as { getPublicKey(user: unknown): Promise<string> }
  const sdkRequest = (starkbank as unknown as { request: RawRequests }).request

  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (thrown) {
      throw toBankError(action, thrown)
    }
  }

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
  }
}

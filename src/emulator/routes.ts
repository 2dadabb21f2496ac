import { validateWebhook, type WebhookSubscriptions, type wireBalance } from './account.ts'
import { BadCursorError, type EmulatorLedger, type PageRequest } from './ledger.ts'
import { MAX_BATCH, validateInvoices, validateTransfers } from './validation.ts'
import type { WireError, WireInvoice, WireTransfer } from './wire.ts'

export const ROUTES = [
  'GET /v2/public-key',
  'POST /v2/invoice',
  'GET /v2/invoice',
  'GET /v2/invoice/:id',
  'POST /v2/transfer',
  'GET /v2/transfer',
  'GET /v2/transfer/:id',
  'GET /v2/event',
  'GET /v2/event/:id',
  'PATCH /v2/event/:id',
  'POST /v2/webhook',
  'GET /v2/webhook',
  'GET /v2/webhook/:id',
  'DELETE /v2/webhook/:id',
  'GET /v2/balance',
] as const

export type EmulatorRoute = (typeof ROUTES)[number]

export interface RouteMatch {
  route: EmulatorRoute
  id?: string
}

export function matchRoute(method: string, pathname: string): RouteMatch | undefined {
  const [, version, resource, id, extra] = pathname.replace(/\/+$/, '').split('/')
  if (version !== 'v2' || !resource || extra !== undefined) return undefined
  const route = `${method} /v2/${resource}${id === undefined ? '' : '/:id'}`
  return (ROUTES as readonly string[]).includes(route)
    ? { route: route as EmulatorRoute, ...(id === undefined ? {} : { id }) }
    : undefined
}

export interface RouteContext {
  ledger: EmulatorLedger
  /** Newest first. */
  publicKeys: () => { id: string; content: string; created: string }[]
  onInvoicesCreated: (invoices: WireInvoice[]) => void
  onTransfersCreated: (transfers: WireTransfer[]) => void
  webhooks: WebhookSubscriptions
  balance: () => ReturnType<typeof wireBalance>
}

/** Per request: how long transfers this request creates stay out of list queries. */
export interface RequestEffects {
  hideFromListsMs?: number
}

export class InputError extends Error {
  override name = 'InputError'
  constructor(readonly errors: WireError[]) {
    super(errors.map((e) => e.message).join('; '))
  }
}

export function errorResponse(status: number, errors: WireError[]): Response {
  return Response.json({ errors }, { status })
}

function listOf(params: URLSearchParams, name: string): string[] | undefined {
  const raw = params.get(name)
  return raw ? raw.split(',').map((v) => v.trim().toLowerCase()) : undefined
}

function pageRequest(params: URLSearchParams): PageRequest {
  const raw = params.get('limit')
  const limit = raw === null ? MAX_BATCH : Number(raw)
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InputError([{ code: 'invalidLimit', message: `limit must be a positive integer, got ${raw}` }])
  }
  return { limit: Math.min(limit, MAX_BATCH), cursor: params.get('cursor') || null }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    throw new InputError([{ code: 'invalidJson', message: 'The request body is not valid JSON' }])
  }
}

function notFound(what: string, id: string): Response {
  return errorResponse(404, [{ code: 'notFound', message: `${what} ${id} not found` }])
}

function found<T>(key: string, what: string, id: string, value: T | undefined): Response {
  return value === undefined ? notFound(what, id) : Response.json({ [key]: value })
}

function dispatch(
  match: RouteMatch,
  body: string,
  params: URLSearchParams,
  ctx: RouteContext,
  effects: RequestEffects,
): Response {
  const { ledger } = ctx
  const id = match.id ?? ''
  switch (match.route) {
    case 'GET /v2/public-key': {
      const { limit } = pageRequest(params)
      return Response.json({ cursor: null, publicKeys: ctx.publicKeys().slice(0, limit) })
    }
    case 'POST /v2/invoice': {
      const result = validateInvoices(parseJson(body))
      if (!result.ok) throw new InputError(result.errors)
      const invoices = ledger.createInvoices(result.items)
      ctx.onInvoicesCreated(invoices)
      return Response.json({ message: 'Invoice(s) successfully created', invoices })
    }
    case 'GET /v2/invoice': {
      const page = ledger.listInvoices(listFilter(params), pageRequest(params))
      return Response.json({ cursor: page.cursor, invoices: page.items })
    }
    case 'GET /v2/invoice/:id':
      return found('invoice', 'Invoice', id, ledger.invoice(id))
    case 'POST /v2/transfer': {
      const result = validateTransfers(parseJson(body), ledger.isExternalIdTaken)
      if (!result.ok) throw new InputError(result.errors)
      const transfers = ledger.createTransfers(result.items, effects.hideFromListsMs)
      ctx.onTransfersCreated(transfers)
      return Response.json({ message: 'Transfer(s) successfully created', transfers })
    }
    case 'GET /v2/transfer': {
      const page = ledger.listTransfers(listFilter(params), pageRequest(params))
      return Response.json({ cursor: page.cursor, transfers: page.items })
    }
    case 'GET /v2/transfer/:id':
      return found('transfer', 'Transfer', id, ledger.transfer(id))
    case 'GET /v2/event': {
      const raw = params.get('isDelivered')
      const filter = raw === 'true' || raw === 'false' ? { isDelivered: raw === 'true' } : {}
      const page = ledger.listEvents(filter, pageRequest(params))
      return Response.json({ cursor: page.cursor, events: page.items })
    }
    case 'GET /v2/event/:id':
      return found('event', 'Event', id, ledger.event(id))
    case 'PATCH /v2/event/:id': {
      const isDelivered = (parseJson(body) as { isDelivered?: unknown } | null)?.isDelivered
      if (typeof isDelivered !== 'boolean') {
        throw new InputError([{ code: 'invalidIsDelivered', message: 'isDelivered must be a boolean' }])
      }
      return found('event', 'Event', id, ledger.setDelivered(id, isDelivered))
    }
    case 'POST /v2/webhook': {
      const input = validateWebhook(parseJson(body))
      if (!input.ok) throw new InputError(input.errors)
      const webhook = ctx.webhooks.create(input.url, input.subscriptions)
      return Response.json({ message: 'Webhook successfully created', webhook })
    }
    case 'GET /v2/webhook': {
      const page = ctx.webhooks.list(pageRequest(params))
      return Response.json({ cursor: page.cursor, webhooks: page.items })
    }
    case 'GET /v2/webhook/:id':
      return found('webhook', 'Webhook', id, ctx.webhooks.get(id))
    case 'DELETE /v2/webhook/:id': {
      const webhook = ctx.webhooks.remove(id)
      if (!webhook) return notFound('Webhook', id)
      return Response.json({ message: 'Webhook successfully deleted', webhook })
    }
    case 'GET /v2/balance':
      return Response.json({ cursor: null, balances: [ctx.balance()] })
  }
}

/** Runs one authenticated request against the ledger; input problems become Stark's 400 shape. */
export function handleRoute(
  match: RouteMatch,
  body: string,
  params: URLSearchParams,
  ctx: RouteContext,
  effects: RequestEffects = {},
): Response {
  try {
    return dispatch(match, body, params, ctx, effects)
  } catch (error) {
    if (error instanceof InputError) return errorResponse(400, error.errors)
    if (error instanceof BadCursorError)
      return errorResponse(400, [{ code: 'invalidCursor', message: error.message }])
    throw error
  }
}

/** The filters Stark Bank's list endpoints take for invoices and transfers. */
function listFilter(params: URLSearchParams) {
  return { tags: listOf(params, 'tags'), status: listOf(params, 'status'), ids: listOf(params, 'ids') }
}

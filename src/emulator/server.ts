import { generateKeyPair, privateKeyFromPem, publicPemOf } from '../adapters/starkbank/ecdsa.ts'
import { webhookSubscriptions, wireBalance } from './account.ts'
import { type AuthErrorCode, authError, projectRegistry } from './auth.ts'
import { type Fault, faultQueue, faultResponse, faultStatus } from './faults.ts'
import { emulatorLedger } from './ledger.ts'
import { type EmulatorRoute, errorResponse, handleRoute, matchRoute, ROUTES } from './routes.ts'
import { timerSet } from './timers.ts'
import { type TransferEventOptions, transferLifecycle } from './transfer-lifecycle.ts'
import { type DeliveryAttempt, webhookDelivery } from './webhooks.ts'
import { starkTime, type WireEvent, type WireInvoice, type WireTransfer } from './wire.ts'

export type RequestHook = (route: EmulatorRoute, body: string) => Promise<void> | void

export interface StarkBankEmulatorOptions {
  /** 0 picks a free port. The emulator listens on 127.0.0.1 only. */
  port: number
  /** Project id -> public PEM. With none registered, any caller is accepted unsigned. */
  projects?: Record<string, string>
  webhookUrl?: string
  /** Share of new invoices paid automatically, 0..1; default 0.8. */
  payShare?: number
  /** Delay before an invoice picked for payment is paid; default 1500 ms. */
  payDelayMs?: number
  /** Fee in cents charged on a paid invoice or a transfer; default `feeCents`, capped at the amount. */
  fee?: (amountCents: number) => number
  /** Flat fee in cents when `fee` is not given; default 50. */
  feeCents?: number
  /** Delays before each webhook retry; default [5_000, 30_000, 120_000] (Stark's 5/30/120 min over 60). */
  webhookRetryDelaysMs?: number[]
  /** How long one webhook delivery may take before it counts as failed; default 5000 ms. */
  webhookTimeoutMs?: number
  random?: () => number
  now?: () => number
  /** Private PEM (SEC1) of the key signing webhooks; generated when absent. */
  signingKey?: string
  onRequest?: RequestHook
  /** The workspace's balance before any invoice or transfer, in cents; default 1_000_000 (R$ 10,000.00). */
  openingBalance?: number
  /** Created transfers move on (created → processing → success/failed), each step a `transfer` webhook. */
  transferEvents?: TransferEventOptions
}

export type EmulatorEvent = WireEvent & { attempts: DeliveryAttempt[] }

export interface StarkBankEmulator {
  readonly url: string
  readonly port: number
  /** The current webhook signing key, as `GET /v2/public-key` serves it. */
  readonly publicKeyPem: string
  readonly workspaceId: string
  /** Requests received per route, authenticated or not. */
  readonly counts: Readonly<Record<EmulatorRoute, number>>
  /** Awaited after authentication and before any fault or processing. */
  onRequest: RequestHook | undefined
  registerProject(id: string, publicPem: string): void
  setWebhookUrl(url: string | undefined): void
  invoices(): WireInvoice[]
  transfers(): WireTransfer[]
  /** Events with their delivery attempts, oldest first. */
  events(): EmulatorEvent[]
  /** Queues a fault on a route; faults are consumed in order, `times` requests each. */
  fail(route: EmulatorRoute, fault: Fault): void
  /**
   * Pays an unpaid invoice now and sends its webhook; undefined when the invoice is unknown or not
   * payable. `late` pays it after its due date: fine and interest are added to the amount credited.
   */
  payInvoice(id: string, late?: { fineAmount: number; interestAmount: number }): WireEvent | undefined
  /** Sends a second `credited` log for a paid invoice, `extraAmount` cents more; undefined when unpaid. */
  creditAgain(id: string, extraAmount: number): WireEvent | undefined
  /** For `ms` from now every request is refused with 401 and `code`, as Stark does for bad keys or clocks. */
  authOutage(ms: number, code: AuthErrorCode): void
  /** Signs webhooks with a new key from now on; returns its public PEM. */
  rotateSigningKey(): string
  stop(): Promise<void>
}

/** Starts an in-memory Stark Bank (v2 wire protocol) for the routes paybridge uses. */
export async function startStarkBankEmulator(options: StarkBankEmulatorOptions): Promise<StarkBankEmulator> {
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const payShare = options.payShare ?? 0.8
  const payDelayMs = options.payDelayMs ?? 1500
  const feeCents = options.feeCents ?? 50
  const timers = timerSet()
  const projects = projectRegistry(options.projects)
  const faults = faultQueue()
  const ledger = emulatorLedger({ now, fee: options.fee ?? (() => feeCents) })
  const counts = Object.fromEntries(ROUTES.map((r) => [r, 0])) as Record<EmulatorRoute, number>
  const attempts = new Map<string, DeliveryAttempt[]>()
  let webhookUrl = options.webhookUrl
  let signingPem = options.signingKey ?? generateKeyPair().privatePem
  let signingSecret = privateKeyFromPem(signingPem)
  const publicKeys = [{ id: `${now()}`, content: publicPemOf(signingPem), created: starkTime(now()) }]

  const subscriptions = webhookSubscriptions(ledger.nextId)
  const webhooks = webhookDelivery({
    url: () => webhookUrl,
    subscribers: (event) => subscriptions.urlsFor(event.subscription),
    signingKey: () => signingSecret,
    retryDelaysMs: options.webhookRetryDelaysMs ?? [5_000, 30_000, 120_000],
    timeoutMs: options.webhookTimeoutMs ?? 5_000,
    timers,
    onAttempt: (eventId, attempt) => attempts.set(eventId, [...(attempts.get(eventId) ?? []), attempt]),
    onDelivered: (eventId) => ledger.setDelivered(eventId, true),
  })

  function payInvoice(id: string, late?: { fineAmount: number; interestAmount: number }) {
    const event = ledger.payInvoice(id, late)
    if (event) webhooks.send(event)
    return event
  }
  const lifecycle =
    options.transferEvents &&
    transferLifecycle({ options: options.transferEvents, ledger, timers, random, send: webhooks.send })
  let authOutage: { until: number; code: AuthErrorCode } | undefined

  const context = {
    ledger,
    publicKeys: () => publicKeys,
    onInvoicesCreated(invoices: WireInvoice[]) {
      for (const invoice of invoices) {
        if (random() < payShare) timers.later(payDelayMs, () => payInvoice(invoice.id))
      }
    },
    onTransfersCreated: (transfers: WireTransfer[]) => lifecycle?.started(transfers),
    webhooks: subscriptions,
    balance: () =>
      wireBalance(ledger.workspaceId, options.openingBalance ?? 1_000_000, ledger.snapshot(), now()),
  }

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: options.port,
    // Hung requests are a feature here: never close a connection for being idle.
    idleTimeout: 0,
    fetch: (request) =>
      handle(request)
        .catch((error: unknown) =>
          errorResponse(500, [{ code: 'internalServerError', message: String(error) }]),
        )
        .then((response) => {
          // The emulator's clock (`now`), as Stark Bank's answers carry its own.
          response.headers.set('Date', new Date(now()).toUTCString())
          return response
        }),
  })
  const port = server.port ?? options.port

  const emulator: StarkBankEmulator = {
    url: `http://127.0.0.1:${port}`,
    port,
    get publicKeyPem() {
      return publicKeys[0]?.content ?? ''
    },
    workspaceId: ledger.workspaceId,
    counts,
    onRequest: options.onRequest,
    registerProject: (id, publicPem) => void projects.register(id, publicPem),
    setWebhookUrl: (url) => {
      webhookUrl = url
    },
    invoices: () => ledger.snapshot().invoices,
    transfers: () => ledger.snapshot().transfers,
    events: () => ledger.snapshot().events.map((e) => ({ ...e, attempts: attempts.get(e.id) ?? [] })),
    fail: (route, fault) => faults.add(route, fault),
    payInvoice,
    creditAgain(id, extraAmount) {
      const event = ledger.creditAgain(id, extraAmount)
      if (event) webhooks.send(event)
      return event
    },
    authOutage(ms, code) {
      authOutage = { until: now() + ms, code }
    },
    rotateSigningKey() {
      signingPem = generateKeyPair().privatePem
      signingSecret = privateKeyFromPem(signingPem)
      publicKeys.unshift({ id: `${now()}`, content: publicPemOf(signingPem), created: starkTime(now()) })
      return emulator.publicKeyPem
    },
    async stop() {
      timers.stop()
      faults.clear()
      await server.stop(true)
    },
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const match = matchRoute(request.method, url.pathname)
    if (!match)
      return errorResponse(404, [{ code: 'notFound', message: `${request.method} ${url.pathname}` }])
    counts[match.route] += 1
    const body = request.method === 'GET' ? '' : await request.text()
    if (authOutage && now() < authOutage.until) return errorResponse(401, [authError(authOutage.code)])
    const auth = projects.authenticate(request.headers, body, now())
    if (!auth.ok) return errorResponse(401, [auth.error])
    await emulator.onRequest?.(match.route, body)
    const fault = faults.take(match.route)
    const status = fault && faultStatus(fault)
    if (fault && !fault.afterProcessing) {
      if (fault.delayMs) await timers.sleep(fault.delayMs)
      if (status) return faultResponse(status, fault)
    }
    const effects = fault?.afterProcessing ? { hideFromListsMs: fault.hideFromListsMs } : {}
    const response = handleRoute(match, body, url.searchParams, context, effects)
    if (fault?.afterProcessing) {
      if (fault.delayMs) await timers.sleep(fault.delayMs)
      if (status) return faultResponse(status, fault)
    }
    return response
  }

  return emulator
}

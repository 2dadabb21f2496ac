import Stripe from 'stripe'

// A stand-in for the Stripe-processing service: `POST /api/v1/Stripe/Webhook` verified with the official
// `stripe` package exactly as an unchanged downstream would. Under Bun the package loads its web build,
// whose crypto is async, so verification is `constructEventAsync` (same header parsing, 300 s tolerance
// and constant-time compare as `constructEvent` on Node).

/** How the server answers one request. `hang` never answers (until `stop`). */
export type Reply = { status: number; body?: string; retryAfter?: string; delayMs?: number } | { hang: true }

export interface Delivery {
  eventId: string | undefined
  /** The `Paybridge-Attempt` header. */
  attempt: number
  verified: boolean
  /** Why verification failed. */
  error?: string
  /** What the server answered: `pending` until it does, `hang` for never. */
  answered: number | 'hang' | 'pending'
  at: number
  body: string
  contentType: string | null
}

export interface StripeDownstream {
  /** Base URL, to use as STRIPE_SERVICE_URL. */
  url: string
  deliveries: Delivery[]
  /** Replies for the next requests about `eventId` ('*': any event), in order; then 200. */
  script(eventId: string | '*', ...replies: Reply[]): void
  /** Called on every verified request before it is answered (e.g. to kill paybridge mid-flight). */
  onRequest: ((delivery: Delivery) => void | Promise<void>) | undefined
  /** The most requests the server held at once. */
  maxConcurrent(): number
  /** Verified requests answered 2xx, per event id. */
  delivered(eventId: string): number
  /** Every event id answered 2xx at least once, with its count. */
  deliveredCounts(): Map<string, number>
  stop(): Promise<void>
}

const PATH = '/api/v1/Stripe/Webhook'

export async function startStripeDownstream(options: { secret: string }): Promise<StripeDownstream> {
  const stripe = new Stripe('sk_test_downstream')
  const scripts = new Map<string, Reply[]>()
  const deliveries: Delivery[] = []
  const hanging = new Set<() => void>()
  let open = 0
  let maxOpen = 0

  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 60,
    async fetch(request) {
      const url = new URL(request.url)
      if (request.method !== 'POST' || url.pathname !== PATH)
        return new Response('not found', { status: 404 })
      open++
      maxOpen = Math.max(maxOpen, open)
      try {
        return await answer(request)
      } finally {
        open--
      }
    },
  })

  async function answer(request: Request): Promise<Response> {
    const body = await request.text()
    const delivery: Delivery = {
      eventId: undefined,
      attempt: Number(request.headers.get('Paybridge-Attempt') ?? 0),
      verified: false,
      answered: 'pending',
      at: Date.now(),
      body,
      contentType: request.headers.get('Content-Type'),
    }
    deliveries.push(delivery)
    try {
      const event = await stripe.webhooks.constructEventAsync(
        body,
        request.headers.get('Stripe-Signature') ?? '',
        options.secret,
      )
      delivery.eventId = event.id
      delivery.verified = true
    } catch (err) {
      delivery.error = (err as Error).message
      delivery.answered = 400
      return new Response(`Webhook Error: ${delivery.error}`, { status: 400 })
    }
    await downstream.onRequest?.(delivery)
    const reply = next(delivery.eventId) ?? { status: 200 }
    if ('hang' in reply) {
      delivery.answered = 'hang'
      await new Promise<void>((resolve) => hanging.add(resolve))
      return new Response('gave up', { status: 503 })
    }
    if (reply.delayMs) await Bun.sleep(reply.delayMs)
    delivery.answered = reply.status
    const headers: Record<string, string> = reply.retryAfter ? { 'Retry-After': reply.retryAfter } : {}
    return new Response(reply.body ?? (reply.status < 300 ? '{"received":true}' : 'error'), {
      status: reply.status,
      headers,
    })
  }

  function next(eventId: string | undefined): Reply | undefined {
    for (const key of [eventId ?? '', '*']) {
      const queue = scripts.get(key)
      if (queue && queue.length > 0) return queue.shift()
    }
    return undefined
  }

  const ok = (d: Delivery) => d.verified && typeof d.answered === 'number' && d.answered < 300

  const downstream: StripeDownstream = {
    url: `http://127.0.0.1:${server.port}`,
    deliveries,
    onRequest: undefined,
    maxConcurrent: () => maxOpen,
    script(eventId, ...replies) {
      scripts.set(eventId, [...(scripts.get(eventId) ?? []), ...replies])
    },
    delivered: (eventId) => deliveries.filter((d) => d.eventId === eventId && ok(d)).length,
    deliveredCounts() {
      const counts = new Map<string, number>()
      for (const d of deliveries.filter(ok))
        counts.set(d.eventId ?? '', (counts.get(d.eventId ?? '') ?? 0) + 1)
      return counts
    },
    async stop() {
      for (const release of hanging) release()
      await server.stop(true)
    },
  }
  return downstream
}

import { timingSafeEqual } from 'node:crypto'
import { stripeSignatureHeader } from '../adapters/stripe/signature.ts'

// A local stand-in for the Stripe-processing service paybridge forwards to: `POST
// /api/v1/Stripe/Webhook`, every request's `Stripe-Signature` checked with the shared secret as
// `stripe.webhooks.constructEvent` checks it (any v1 matching HMAC-SHA256(secret, "<t>.<raw body>"),
// t within 300 s). The `stripe` package is a development dependency, so the check is made here, over
// the signature paybridge's own signer computes (its tests check that against the `stripe` package).

const PATH = '/api/v1/Stripe/Webhook'
/** Stripe's default tolerance for the signature's timestamp. */
const TOLERANCE_S = 300

export interface StandInDelivery {
  /** The event id, when the body was a JSON object with one. */
  eventId: string | undefined
  type: string | undefined
  /** Why the signature was refused; absent when it was good. */
  refused?: string
  at: number
}

export interface StripeServiceStandIn {
  /** Base URL, as STRIPE_SERVICE_URL. */
  readonly url: string
  /** Every request to the webhook path, oldest first. */
  deliveries(): StandInDelivery[]
  stop(): Promise<void>
}

/** Why a `Stripe-Signature` header does not sign `body` with `secret` at `nowS`; undefined when it does. */
export function stripeSignatureProblem(
  header: string | null,
  body: string,
  secret: string,
  nowS: number,
): string | undefined {
  if (!header) return 'no Stripe-Signature header'
  const parts = header.split(',').map((p) => p.trim().split('='))
  const t = parts.find(([k]) => k === 't')?.[1]
  const signatures = parts.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v as string)
  if (!t || !/^\d+$/.test(t) || signatures.length === 0)
    return 'Stripe-Signature has no t=<unix seconds> and v1=<signature>'
  if (Math.abs(nowS - Number(t)) > TOLERANCE_S)
    return `Stripe-Signature timestamp is ${nowS - Number(t)} s off (tolerance ${TOLERANCE_S} s)`
  const expected = Buffer.from(stripeSignatureHeader(body, secret, Number(t)).split('v1=')[1] ?? '', 'hex')
  const matches = signatures.some((hex) => {
    const given = Buffer.from(hex, 'hex')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
  return matches ? undefined : 'no v1 signature matches the body with the shared secret'
}

/** Starts the stand-in on 127.0.0.1 (a free port unless `port` is given). */
export function startStripeServiceStandIn(options: {
  secret: string
  port?: number
  now?: () => number
}): StripeServiceStandIn {
  const now = options.now ?? Date.now
  const deliveries: StandInDelivery[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: options.port ?? 0,
    async fetch(request) {
      const url = new URL(request.url)
      if (request.method !== 'POST' || url.pathname !== PATH)
        return new Response('not found', { status: 404 })
      // Stripe signs the raw body: verify before parsing.
      const body = await request.text()
      const refused = stripeSignatureProblem(
        request.headers.get('Stripe-Signature'),
        body,
        options.secret,
        Math.floor(now() / 1000),
      )
      const event = eventOf(body)
      deliveries.push({ ...event, ...(refused ? { refused } : {}), at: now() })
      if (refused) return new Response(`Webhook Error: ${refused}`, { status: 400 })
      return Response.json({ received: true })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    deliveries: () => [...deliveries],
    stop: () => server.stop(true),
  }
}

function eventOf(body: string): { eventId: string | undefined; type: string | undefined } {
  try {
    const json = JSON.parse(body) as { id?: unknown; type?: unknown }
    return {
      eventId: typeof json.id === 'string' ? json.id : undefined,
      type: typeof json.type === 'string' ? json.type : undefined,
    }
  } catch {
    return { eventId: undefined, type: undefined }
  }
}

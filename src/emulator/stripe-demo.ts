import { randomBytes } from 'node:crypto'
import type { StripeConfig, StripeDelivery } from '../config.ts'
import type { OutgoingMessage } from '../ports/queue.ts'
import { type StripeServiceStandIn, startStripeServiceStandIn } from './stripe-service.ts'

// The Stripe side of the embedded default: with no STRIPE_SERVICE_URL, paybridge forwards to a local
// stand-in of the Stripe-processing service, fed at start by a small batch in the three shapes the
// queue carries, so `npm start` shows the forwarder working with no configuration.

/**
 * The local stand-in with a fresh shared secret, and the forwarder configuration pointing at it (the
 * embedded `stripe-events` queue, the configured delivery limits).
 */
export function startStripeDemo(delivery: StripeDelivery): {
  standIn: StripeServiceStandIn
  stripe: StripeConfig
} {
  const webhookSecret = `whsec_local_${randomBytes(16).toString('hex')}`
  const standIn = startStripeServiceStandIn({ secret: webhookSecret })
  return { standIn, stripe: { serviceUrl: standIn.url, webhookSecret, queue: undefined, ...delivery } }
}

/**
 * Three Stripe events, one per queue shape: a raw event, an EventBridge envelope and an SNS
 * notification. Fresh ids on every start, as the embedded Stark Bank issues a fresh batch.
 */
export function stripeDemoBatch(nowMs: number, random: () => number = Math.random): OutgoingMessage[] {
  const stamp = `${nowMs.toString(36)}${Math.floor(random() * 36 ** 4).toString(36)}`
  const created = Math.floor(nowMs / 1000)
  const event = (n: number, type: string, object: Record<string, unknown>) => ({
    id: `evt_local_${stamp}_${n}`,
    object: 'event',
    api_version: '2024-06-20',
    created,
    type,
    livemode: false,
    data: { object },
  })
  const raw = event(1, 'invoice.paid', { id: `in_local_${stamp}`, object: 'invoice', amount_paid: 2_500 })
  const bridged = event(2, 'customer.created', { id: `cus_local_${stamp}`, object: 'customer' })
  const viaSns = event(3, 'charge.succeeded', { id: `ch_local_${stamp}`, object: 'charge', amount: 2_500 })
  return [
    { body: JSON.stringify(raw) },
    {
      body: JSON.stringify({
        version: '0',
        id: `local-${stamp}`,
        'detail-type': bridged.type,
        source: 'aws.partner/stripe.com/local',
        time: new Date(nowMs).toISOString(),
        detail: bridged,
      }),
    },
    {
      body: JSON.stringify({
        Type: 'Notification',
        MessageId: `local-${stamp}`,
        TopicArn: 'arn:aws:sns:local:000000000000:stripe-events',
        Message: JSON.stringify(viaSns),
      }),
    },
  ]
}

/** The banner said at start, as loudly as the embedded Stark Bank's. */
export function stripeDemoBanner(standInUrl: string, queued: number, queueName: string): string[] {
  return [
    '==================================================================================',
    '  Stripe forwarding runs on its EMBEDDED default: no STRIPE_SERVICE_URL.',
    `  Stripe-processing service: LOCAL STAND-IN at ${standInUrl}/api/v1/Stripe/Webhook`,
    '  (it checks every Stripe-Signature with a secret made for this run).',
    `  Demo batch: ${queued} Stripe events (raw, EventBridge, SNS) on the embedded queue ${queueName}.`,
    '  Set STRIPE_SERVICE_URL and STRIPE_WEBHOOK_SECRET to forward to your service instead.',
    '==================================================================================',
  ]
}

import type { StripeConfig } from '../config.ts'
import { minForwardLeaseMs } from '../domain/lease.ts'
import type { Random } from '../domain/random.ts'
import { redactUrl } from '../domain/redacted-url.ts'
import type { Clock } from '../ports/clock.ts'
import type { ForwardStore } from '../ports/forward-store.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { Queue } from '../ports/queue.ts'
import { type ConsumerOptions, QueueConsumer } from './consumer.ts'
import { forwardStripeEvent, forwardStripeEvents } from './forward-stripe-event.ts'
import { Poller } from './poller.ts'
import { forwardRelay } from './relay-forwards.ts'

/** Where the Stripe-processing service takes events. */
export const STRIPE_WEBHOOK_PATH = '/api/v1/Stripe/Webhook'

/** `{STRIPE_SERVICE_URL}/api/v1/Stripe/Webhook`: the path joins the service's own, before any query. */
export function stripeWebhookUrl(serviceUrl: string): string {
  const url = new URL(serviceUrl)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${STRIPE_WEBHOOK_PATH}`
  return url.toString()
}

/** Knobs with production defaults; tests shorten them. */
export interface StripeForwardingTuning {
  /** How often the relay looks for due forwards when idle (new events wake it at once). */
  pollIntervalMs: number
  /** How long a claimed forward is ours; raised to at least `timeoutMs` + 1 s. */
  leaseMs: number
  /** Queue visibility while a message is handled. */
  visibilityMs: number
  /** Long-poll wait of one receive. */
  waitMs: number
  /** Larger messages are dead-lettered unread (SQS's own limit is 256 KiB). */
  maxBodyBytes: number
  /** Messages handled at once; each is one short SQLite transaction. */
  consumerConcurrency: number
}

export interface StripeForwardingOptions {
  store: ForwardStore
  /** The Stripe events queue: SQS when configured, else the embedded `stripe-events` queue. */
  queue: Queue
  config: StripeConfig
  /** Makes `Stripe-Signature` with `config.webhookSecret` (an adapter: the app does no crypto). */
  sign: (body: string, unixSeconds: number) => string
  log: Log
  clock: Clock
  random: Random
  fetch?: typeof fetch
  metrics?: Pick<Metrics, 'downstreamCall'>
  /** The queue consumer's counters and its paused gauge. */
  consumerMetrics?: ConsumerOptions['metrics']
  tuning?: Partial<StripeForwardingTuning>
  /** Throws while the ledger cannot take writes: the consumer probes it while paused by an outage. */
  probe?: () => Promise<void>
}

/**
 * The Stripe forwarder: a consumer that records each queued Stripe event once (inbox + forward +
 * outbox, acked after the commit) and a relay that POSTs the forwards to
 * `{serviceUrl}/api/v1/Stripe/Webhook`, signed afresh per attempt. `stop()` drains both: no new
 * messages or claims, the POSTs in hand finish (each within `timeoutMs`).
 */
export function stripeForwarding(options: StripeForwardingOptions) {
  const { store, queue, config, clock, random } = options
  const log = options.log.child({ component: 'stripe-forwarder' })
  const tuning: StripeForwardingTuning = {
    pollIntervalMs: 250,
    leaseMs: 60_000,
    visibilityMs: 30_000,
    waitMs: 10_000,
    maxBodyBytes: 256 * 1024,
    consumerConcurrency: 10,
    ...options.tuning,
  }
  const url = stripeWebhookUrl(config.serviceUrl)

  const relay = forwardRelay({
    store,
    url,
    sign: options.sign,
    timeoutMs: config.timeoutMs,
    concurrency: config.concurrency,
    retry: config.retry,
    // Configuration refuses a shorter lease; callers that build this directly get the floor.
    leaseMs: Math.max(tuning.leaseMs, minForwardLeaseMs(config.timeoutMs)),
    clock,
    random,
    log,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  })
  const poller = new Poller(
    'forward relay',
    async () => (await relay.relayOnce()).more,
    tuning.pollIntervalMs,
    log,
  )
  const consumer = new QueueConsumer({
    queue,
    store,
    log,
    clock,
    random,
    concurrency: tuning.consumerConcurrency,
    visibilityMs: tuning.visibilityMs,
    waitMs: tuning.waitMs,
    maxBodyBytes: tuning.maxBodyBytes,
    metrics: options.consumerMetrics,
    ...(options.probe ? { probe: options.probe } : {}),
    handle: forwardStripeEvent({ store, clock, log, recorded: () => poller.poke() }),
    handleBatch: forwardStripeEvents({ store, clock, log, recorded: () => poller.poke() }),
  })

  let stopping: Promise<void> | undefined
  return {
    url,
    /** Why its consumer is paused by an outage, or `undefined`. */
    paused: () => consumer.paused(),
    start(): void {
      log.info('Stripe forwarder on', {
        queue: queue.name,
        queueKind: queue.kind,
        url: redactUrl(url),
        concurrency: config.concurrency,
        timeoutMs: config.timeoutMs,
      })
      consumer.start()
      poller.start()
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        await consumer.stop()
        await Promise.all([poller.stop(), relay.drain()])
      })()
      return stopping
    },
  }
}

import type { SQSClient } from '@aws-sdk/client-sqs'
import { stripeSigner } from '../adapters/stripe/signature.ts'
import { QueueConsumer } from '../app/consumer.ts'
import { OutagePause } from '../app/consumer-pause.ts'
import { type GapReport, gapFilling } from '../app/fill-gaps.ts'
import { Poller } from '../app/poller.ts'
import { recordBankEvent, recordBankEvents } from '../app/record-bank-event.ts'
import { stripeForwarding } from '../app/stripe-forwarding.ts'
import type { Queue } from '../ports/queue.ts'
import type { WorkerExtras } from './background.ts'
import type { RoleModule, Shared } from './shared.ts'

/** The SQS long-poll wait of one receive. */
const RECEIVE_WAIT_MS = 20_000
/** The webhook takes at most 64 KiB, so a larger message did not come from it. */
const MAX_BODY_BYTES = 64 * 1024
/** One receive is one ledger transaction: the embedded queue hands out bigger batches than SQS's 10. */
const SQS_MAX_RECEIVE = 10
const EMBEDDED_RECEIVE = 50

/**
 * The messages one receive loop may hold: its share of WORKER_CONCURRENCY, on SQS rounded up to
 * whole receives of 10. A share under 10 would cap every receive, and so every ledger transaction
 * and every delete, at that share: 16 over 4 loops made receives of 4, three times the SQS calls.
 */
export function messagesPerLoop(concurrency: number, loops: number, kind: Queue['kind']): number {
  const share = Math.max(1, Math.ceil(concurrency / loops))
  return kind === 'sqs' ? Math.ceil(share / SQS_MAX_RECEIVE) * SQS_MAX_RECEIVE : share
}

/**
 * The worker role: the receive loops that record Stark Bank events, the gap fill (at start, hourly,
 * retried soon after a failure), the Stripe forwarder when configured, and the drains of what SQS
 * dead-lettered. `relayed` runs whenever new transfers may be waiting for the relay.
 */
export async function workerRole(
  deps: Shared &
    WorkerExtras & {
      relayed: () => void
    },
): Promise<RoleModule & { readiness(): true | string; fillGaps(): Promise<GapReport | undefined> }> {
  const { config, ledger, queue, stripeQueue, clock, random, log, metrics, relayed } = deps
  const store = ledger.store
  // While paused by an outage a consumer probes the ledger the way /readyz does.
  const probe = async () => {
    const outcome = await ledger.writable()
    if (outcome !== true) throw new Error(outcome)
  }
  const recorder = {
    store,
    destination: config.destination,
    payoutScope: config.payoutScope,
    clock,
    log,
    metrics,
  }
  const handle = recordBankEvent(recorder)
  const handleMany = recordBankEvents(recorder)
  // SQS hands out at most 10 messages a receive: several receive loops keep the workers busy.
  const loops = queue.kind === 'sqs' ? (config.sqs?.receiveLoops ?? 1) : 1
  const perReceive = queue.kind === 'sqs' ? SQS_MAX_RECEIVE : EMBEDDED_RECEIVE
  const perLoop = messagesPerLoop(config.workerConcurrency, loops, queue.kind)
  // The receive loops of one queue pause and resume together.
  const outage = new OutagePause({
    queue,
    log,
    random,
    backoff: { baseMs: 500, capMs: 5_000 },
    visibilityMs: config.queue.visibilityMs,
    pollWaitMs: RECEIVE_WAIT_MS,
    probe,
    metrics,
  })
  const consumers = Array.from(
    { length: loops },
    () =>
      new QueueConsumer({
        queue,
        store,
        log,
        clock,
        random,
        concurrency: perLoop,
        maxPerReceive: perReceive,
        // Every SQS receive and delete costs a request: receive full batches while the queue keeps up.
        settleShortReceives: queue.kind === 'sqs',
        visibilityMs: config.queue.visibilityMs,
        waitMs: RECEIVE_WAIT_MS,
        maxBodyBytes: MAX_BODY_BYTES,
        metrics,
        outage,
        handle: async (body) => {
          const result = await handle(body)
          relayed()
          return result
        },
        handleBatch: async (bodies) => {
          const results = await handleMany(bodies)
          relayed()
          return results
        },
      }),
  )
  // Webhooks Stark Bank gave up on.
  const gaps = gapFilling({
    bank: deps.bank,
    store,
    record: handle,
    clock,
    log,
    filled: relayed,
    ...(deps.gapRetryMs ? { retryMs: deps.gapRetryMs } : {}),
  })
  const forwarder =
    config.stripe && stripeQueue
      ? stripeForwarding({
          store: ledger.forwards,
          queue: stripeQueue,
          metrics,
          consumerMetrics: metrics,
          probe,
          config: config.stripe,
          sign: stripeSigner(config.stripe.webhookSecret),
          log,
          clock,
          random,
          tuning: { leaseMs: config.relayLeaseMs, visibilityMs: config.queue.visibilityMs },
        })
      : undefined
  const drains = await deadLetterDrains([queue, stripeQueue], { ...deps, store })

  return {
    readiness: () => {
      const paused = outage.reason() ?? forwarder?.paused()
      return paused === undefined ? true : `consumer paused by an outage: ${paused}`
    },
    fillGaps: async () => {
      const report = await gaps.fillNow()
      relayed()
      return report
    },
    start() {
      for (const consumer of consumers) consumer.start()
      gaps.start({ now: deps.gapFillAtStart })
      // The forwarder announces itself (queue, URL, limits) when it starts.
      if (forwarder) forwarder.start()
      else log.info('Stripe forwarder off: set STRIPE_SERVICE_URL and STRIPE_WEBHOOK_SECRET to turn it on')
      for (const drain of drains) drain.start()
    },
    async stop() {
      gaps.stop()
      await Promise.all(consumers.map((c) => c.stop()))
      await forwarder?.stop()
      await Promise.all(drains.map((d) => d.stop()))
    },
  }
}

/**
 * Nothing may end in a place nobody reads: what SQS moves to a queue's dead-letter queue is drained
 * into the ledger's dead letters every 30 s (seen in `ledger dead-letters` and /admin, replayable).
 */
async function deadLetterDrains(
  queues: (Queue | undefined)[],
  deps: Pick<Shared, 'clock' | 'log' | 'metrics'> & {
    sqs: SQSClient | undefined
    store: Shared['ledger']['store']
  },
): Promise<Poller[]> {
  const { sqs } = deps
  const onSqs = queues.filter((q): q is Queue => q?.kind === 'sqs')
  if (!sqs || onSqs.length === 0) return []
  const { sqsDeadLetterDrain } = await import('../adapters/sqs/dead-letter-drain.ts')
  return onSqs.map((q) => {
    const drain = sqsDeadLetterDrain({ client: sqs, queueName: q.name, ...deps })
    return new Poller(
      `${q.name} dead-letter drain`,
      async () => (await drain.drainOnce()).more,
      30_000,
      deps.log,
    )
  })
}

import { Hono } from 'hono'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Clock } from '../../ports/clock.ts'
import type { Counts, LedgerViews } from '../../ports/ledger-views.ts'
import type { CallOutcome, Metrics } from '../../ports/metrics.ts'
import type { QueueDepth } from '../../ports/queue.ts'
import { processMetrics } from './process-metrics.ts'

export interface PrometheusMetrics extends Metrics {
  /** This instance's own registry (never prom-client's global one). */
  readonly registry: Registry
  readonly contentType: string
  /** Reads the ledger's gauges afresh, then renders every metric in the Prometheus text format. */
  scrape(): Promise<string>
}

const CALL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const VERIFY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

// Known states are always exported (as 0 when empty) so alerts on them never see a missing series.
const OUTBOX_KINDS = ['transfer', 'forward']
const OUTBOX_STATES = ['pending', 'in_flight', 'held', 'dead']
const TRANSFER_STATES = ['pending', 'held', 'created', 'skipped', 'dead']
const BANK_STATES = ['success', 'failed']
const FORWARD_STATES = ['pending', 'delivered', 'dead']
const INVOICE_STATES = ['planned', 'issued', 'credited']

/** `503` → `5xx`; a call that got no answer keeps its reason. */
export function statusClass(outcome: CallOutcome): string {
  return typeof outcome === 'number' ? `${Math.floor(outcome / 100)}xx` : outcome
}

/**
 * Metrics in the Prometheus format on a registry of their own. Counters and histograms are fed
 * through the `Metrics` port; gauges of the flow (outbox, transfers, forwards, invoices, dead letters,
 * embedded queues) are read from the ledger and the embedded queues at each scrape. `queues` names the
 * embedded queues to report even when empty.
 */
export function prometheusMetrics(deps: {
  /** The ledger the gauges are read from, on either engine; absent: counters only. */
  views: Pick<LedgerViews, 'counts'> | undefined
  /** The embedded queues' depths; absent when the queues are on SQS. */
  queueDepths?: () => QueueDepth[] | Promise<QueueDepth[]>
  clock?: Clock
  queues?: string[]
  /**
   * Open transfers flagged unresolved (retries past the limit, outcome unknown), read from the Store
   * at each scrape, so it holds on either ledger engine and with several relays.
   */
  unresolvedTransfers?: () => Promise<number>
}): PrometheusMetrics {
  const clock = deps.clock ?? Date.now
  const registry = new Registry()
  const registers = [registry]
  processMetrics(registers)
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers })
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers })

  const webhooks = counter('paybridge_webhooks_total', 'Webhook requests by source and outcome', [
    'source',
    'outcome',
  ])
  const verify = new Histogram({
    name: 'paybridge_webhook_verify_seconds',
    help: 'Time to verify a webhook signature',
    buckets: VERIFY_BUCKETS,
    registers,
  })
  const received = counter('paybridge_queue_received_total', 'Messages received from a queue', ['queue'])
  const acked = counter('paybridge_queue_acked_total', 'Messages deleted after their step committed', [
    'queue',
  ])
  const deadLettered = counter('paybridge_queue_dead_lettered_total', 'Messages kept as dead letters', [
    'queue',
  ])
  const paused = gauge(
    'paybridge_consumer_paused',
    "1 while a queue's consumer is paused by a ledger or queue outage (0: consuming)",
    ['queue'],
  )
  const infraFailures = counter(
    'paybridge_consumer_infrastructure_failures_total',
    'Ledger or queue failures met while consuming a queue (the consumer pauses; the messages are not counted)',
    ['queue'],
  )
  const bank = new Histogram({
    name: 'paybridge_bank_call_seconds',
    help: 'Stark Bank calls by operation and status class',
    labelNames: ['operation', 'status_class'],
    buckets: CALL_BUCKETS,
    registers,
  })
  const downstream = new Histogram({
    name: 'paybridge_downstream_call_seconds',
    help: 'POSTs to the Stripe-processing service by status class',
    labelNames: ['status_class'],
    buckets: CALL_BUCKETS,
    registers,
  })
  const runs = counter('paybridge_scheduler_runs_total', 'Invoice runs by outcome', ['outcome'])
  const issued = counter('paybridge_invoices_issued_total', 'Invoices created at Stark Bank')
  const circuit = gauge(
    'paybridge_relay_circuit_open',
    '1 while the transfer relay sends nothing because Stark Bank refuses paybridge access; `reason` says why',
    ['reason'],
  )
  const stale = counter(
    'paybridge_relay_stale_writes_total',
    'Relay outcomes not recorded because another relay had taken the transfer over',
    ['step'],
  )
  const reconOk = gauge('paybridge_reconciliation_ok', '1 when the latest reconciliation found no mismatch')
  const reconMismatches = gauge(
    'paybridge_reconciliation_mismatches',
    'Mismatches the latest reconciliation found',
  )
  const reconAt = gauge('paybridge_reconciliation_timestamp_seconds', 'When the latest reconciliation ran')

  const outbox = gauge('paybridge_outbox_rows', 'Outbox rows by kind and status', ['kind', 'status'])
  const transfers = gauge('paybridge_transfers', 'Transfers by paybridge status', ['status'])
  const transferBank = gauge('paybridge_transfers_bank_status', 'Transfers by Stark Bank status', [
    'bank_status',
  ])
  const unresolved = gauge(
    'paybridge_transfers_unresolved',
    'Open transfers whose retries passed the limit with the outcome unknown (may exist at Stark Bank; still retried)',
  )
  const ledgerReadFailures = counter(
    'paybridge_metrics_ledger_read_failures_total',
    'Scrapes whose ledger read failed (the ledger gauges then keep their last values)',
  )
  const forwards = gauge('paybridge_forwards', 'Stripe forwards by status', ['status'])
  const invoices = gauge('paybridge_invoices', 'Invoices by status', ['status'])
  const deadLetters = gauge('paybridge_dead_letters', 'Dead letters kept in the ledger, by queue', ['queue'])
  const queueDepth = gauge(
    'paybridge_queue_messages',
    'Messages on an embedded queue (waiting or in flight)',
    ['queue'],
  )
  const queueAge = gauge(
    'paybridge_queue_oldest_message_age_seconds',
    'Age of the oldest embedded queue message',
    ['queue'],
  )

  const setAll = (g: Gauge, label: string, known: string[], counts: Counts) => {
    g.reset()
    for (const k of known) g.set({ [label]: k }, 0)
    for (const [k, n] of Object.entries(counts)) g.set({ [label]: k || 'none' }, n)
  }

  async function readLedger(views: Pick<LedgerViews, 'counts'>): Promise<void> {
    const c = await views.counts()
    outbox.reset()
    for (const kind of new Set([...OUTBOX_KINDS, ...Object.keys(c.outbox)])) {
      for (const status of OUTBOX_STATES) outbox.set({ kind, status }, c.outbox[kind]?.[status] ?? 0)
    }
    setAll(transfers, 'status', TRANSFER_STATES, c.transfers)
    setAll(transferBank, 'bank_status', BANK_STATES, c.transferBank)
    setAll(invoices, 'status', INVOICE_STATES, c.invoices)
    setAll(deadLetters, 'queue', [], c.deadLetters)
    setAll(forwards, 'status', FORWARD_STATES, c.forwards)
  }

  async function readQueues(depths: () => QueueDepth[] | Promise<QueueDepth[]>): Promise<void> {
    const all = await depths()
    queueDepth.reset()
    queueAge.reset()
    const now = clock()
    for (const name of deps.queues ?? []) {
      queueDepth.set({ queue: name }, 0)
      queueAge.set({ queue: name }, 0)
    }
    for (const q of all) {
      queueDepth.set({ queue: q.queue }, q.messages)
      queueAge.set({ queue: q.queue }, Math.max(0, (now - q.oldestSentAt) / 1000))
    }
  }

  return {
    registry,
    contentType: registry.contentType,
    async scrape() {
      // An outage is when /metrics matters most: a ledger that cannot be read leaves its gauges at
      // their last values and counts the failure, rather than failing the whole scrape.
      const attempt = async (read: () => void | Promise<void>) => {
        try {
          await read()
        } catch {
          ledgerReadFailures.inc()
        }
      }
      const { views, queueDepths } = deps
      if (views) await attempt(() => readLedger(views))
      if (queueDepths) await attempt(() => readQueues(queueDepths))
      const unresolvedTransfers = deps.unresolvedTransfers
      if (unresolvedTransfers) await attempt(async () => unresolved.set(await unresolvedTransfers()))
      return registry.metrics()
    },
    webhook: (outcome, source = 'starkbank') => webhooks.inc({ source, outcome }),
    verifyDuration: (seconds) => verify.observe(seconds),
    queueReceived: (queue, n) => received.inc({ queue }, n),
    queueAcked: (queue, n) => acked.inc({ queue }, n),
    queueDeadLettered: (queue, n) => deadLettered.inc({ queue }, n),
    consumerPaused: (queue, on) => (on ? paused.inc({ queue }) : paused.dec({ queue })),
    consumerInfrastructureFailure: (queue) => infraFailures.inc({ queue }),
    bankCall: (operation, outcome, seconds) =>
      bank.observe({ operation, status_class: statusClass(outcome) }, seconds),
    downstreamCall: (outcome, seconds) => downstream.observe({ status_class: statusClass(outcome) }, seconds),
    schedulerRun: (outcome) => runs.inc({ outcome }),
    invoicesIssued: (n) => issued.inc(n),
    relayCircuit(open, reason) {
      circuit.reset()
      circuit.set({ reason: open ? (reason ?? 'unknown').slice(0, 200) : '' }, open ? 1 : 0)
    },
    relayStaleWrite: (step) => stale.inc({ step }),
    reconciliation(result, at) {
      reconOk.set(result.ok ? 1 : 0)
      reconMismatches.set(result.mismatches)
      reconAt.set(Math.floor(at / 1000))
    },
  }
}

/** `GET /` answering a scrape in the Prometheus text format; mount it at `/metrics`. */
export function metricsRoute(metrics: Pick<PrometheusMetrics, 'scrape' | 'contentType'>) {
  const app = new Hono()
  app.get('/', async (c) => c.body(await metrics.scrape(), 200, { 'Content-Type': metrics.contentType }))
  return app
}

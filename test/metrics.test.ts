import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { embeddedQueueDepths } from '../src/adapters/embedded-queue/queue-depths.ts'
import type { Ledger } from '../src/adapters/ledger/sqlite/database.ts'
import { ledgerViews } from '../src/adapters/ledger/views.ts'
import { metricsRoute, prometheusMetrics, statusClass } from '../src/adapters/metrics/prometheus.ts'
import { NOW, type PlantedStores, plantLedgerOn } from './support/ledger-fixture.ts'
import { sample } from './support/metrics-sample.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

/** The value of one sample line, e.g. `paybridge_transfers{status="created"}`. */

describe('Prometheus metrics', () => {
  let planted: PlantedStores
  let views: ReturnType<typeof ledgerViews>
  beforeAll(async () => {
    planted = await plantLedgerOn('sqlite')
    views = ledgerViews(planted.stores.read)
  })
  afterAll(() => planted.cleanup())

  it('still answers while the ledger cannot be read: the ledger gauges keep their last values and the failed read is counted', async () => {
    let down = false
    const metrics = prometheusMetrics({
      views: undefined,
      clock: () => NOW,
      unresolvedTransfers: async () => {
        if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
        return 2
      },
    })
    expect(sample(await metrics.scrape(), 'paybridge_transfers_unresolved')).toBe(2)
    down = true
    const text = await metrics.scrape()
    expect(sample(text, 'paybridge_transfers_unresolved')).toBe(2)
    expect(sample(text, 'paybridge_metrics_ledger_read_failures_total')).toBe(1)
  })

  it('counts what the port was told, by label', async () => {
    const metrics = prometheusMetrics({ views, clock: () => NOW })
    metrics.webhook('accepted')
    metrics.webhook('accepted')
    metrics.webhook('bad_signature')
    metrics.webhook('duplicate', 'stripe')
    metrics.verifyDuration(0.002)
    metrics.queueReceived('stark-events', 3)
    metrics.queueAcked('stark-events', 2)
    metrics.queueDeadLettered('stark-events', 1)
    metrics.bankCall('create_transfers', 200, 0.2)
    metrics.bankCall('create_transfers', 503, 1.5)
    metrics.bankCall('find_transfers', 'timeout', 15)
    metrics.downstreamCall(429, 0.05)
    metrics.schedulerRun('issued')
    metrics.schedulerRun('taken')
    metrics.invoicesIssued(9)
    metrics.reconciliation({ ok: false, mismatches: 4 }, NOW)

    const text = await metrics.scrape()
    expect(sample(text, 'paybridge_webhooks_total{source="starkbank",outcome="accepted"}')).toBe(2)
    expect(sample(text, 'paybridge_webhooks_total{source="starkbank",outcome="bad_signature"}')).toBe(1)
    expect(sample(text, 'paybridge_webhooks_total{source="stripe",outcome="duplicate"}')).toBe(1)
    expect(sample(text, 'paybridge_webhook_verify_seconds_count')).toBe(1)
    expect(sample(text, 'paybridge_webhook_verify_seconds_bucket{le="0.0025"}')).toBe(1)
    expect(sample(text, 'paybridge_webhook_verify_seconds_bucket{le="0.001"}')).toBe(0)
    expect(sample(text, 'paybridge_queue_received_total{queue="stark-events"}')).toBe(3)
    expect(sample(text, 'paybridge_queue_acked_total{queue="stark-events"}')).toBe(2)
    expect(sample(text, 'paybridge_queue_dead_lettered_total{queue="stark-events"}')).toBe(1)
    expect(
      sample(text, 'paybridge_bank_call_seconds_count{operation="create_transfers",status_class="2xx"}'),
    ).toBe(1)
    expect(
      sample(text, 'paybridge_bank_call_seconds_sum{operation="create_transfers",status_class="5xx"}'),
    ).toBe(1.5)
    expect(
      sample(text, 'paybridge_bank_call_seconds_count{operation="find_transfers",status_class="timeout"}'),
    ).toBe(1)
    expect(sample(text, 'paybridge_downstream_call_seconds_count{status_class="4xx"}')).toBe(1)
    expect(sample(text, 'paybridge_scheduler_runs_total{outcome="issued"}')).toBe(1)
    expect(sample(text, 'paybridge_scheduler_runs_total{outcome="taken"}')).toBe(1)
    expect(sample(text, 'paybridge_invoices_issued_total')).toBe(9)
    expect(sample(text, 'paybridge_reconciliation_ok')).toBe(0)
    expect(sample(text, 'paybridge_reconciliation_mismatches')).toBe(4)
    expect(sample(text, 'paybridge_reconciliation_timestamp_seconds')).toBe(NOW / 1000)
  })

  it('keeps each instance on its own registry', async () => {
    const a = prometheusMetrics({ views })
    const b = prometheusMetrics({ views })
    a.invoicesIssued(5)
    expect(sample(await b.scrape(), 'paybridge_invoices_issued_total')).toBe(0)
  })

  it('serves the scrape over HTTP in the Prometheus text format', async () => {
    const metrics = prometheusMetrics({ views })
    metrics.webhook('too_large')
    const res = await metricsRoute(metrics).request('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    expect(text).toContain('# TYPE paybridge_webhooks_total counter')
    expect(sample(text, 'paybridge_webhooks_total{source="starkbank",outcome="too_large"}')).toBe(1)
  })

  it('groups HTTP statuses into classes and keeps reasons for calls without an answer', () => {
    expect([statusClass(201), statusClass(429), statusClass(502), statusClass('network')]).toEqual([
      '2xx',
      '4xx',
      '5xx',
      'network',
    ])
  })
})

describe.each(['sqlite', 'postgres'] as const)('the ledger gauges on %s', (engine) => {
  let server: Postgres | undefined
  let planted: PlantedStores
  let views: ReturnType<typeof ledgerViews>
  // The embedded queues live in the SQLite file only; a PostgreSQL ledger has its queues on SQS.
  let queueDepths: ReturnType<typeof embeddedQueueDepths> | undefined
  beforeAll(async () => {
    if (engine === 'postgres') server = await startPostgres()
    planted = await plantLedgerOn(engine, server)
    views = ledgerViews(planted.stores.read)
    queueDepths = planted.stores.sqlite && embeddedQueueDepths(planted.stores.sqlite as Ledger)
  }, 60_000)
  afterAll(async () => {
    await planted?.cleanup()
    await server?.stop()
  })

  it('reads outbox, transfers, forwards, invoices, dead letters and queue age from the ledger at scrape time', async () => {
    const metrics = prometheusMetrics({ views, queueDepths, clock: () => NOW, queues: ['stripe-events'] })
    const text = await metrics.scrape()
    // sa, sb, sc, sz created; sf dead; sd's row was removed (the planted mismatch).
    expect(sample(text, 'paybridge_transfers{status="created"}')).toBe(4)
    expect(sample(text, 'paybridge_transfers{status="dead"}')).toBe(1)
    expect(sample(text, 'paybridge_transfers{status="pending"}')).toBe(0)
    expect(sample(text, 'paybridge_transfers_bank_status{bank_status="success"}')).toBe(2)
    expect(sample(text, 'paybridge_transfers_bank_status{bank_status="failed"}')).toBe(1)
    expect(sample(text, 'paybridge_transfers_bank_status{bank_status="processing"}')).toBe(1)
    expect(sample(text, 'paybridge_outbox_rows{kind="transfer",status="dead"}')).toBe(1)
    expect(sample(text, 'paybridge_outbox_rows{kind="transfer",status="pending"}')).toBe(0)
    expect(sample(text, 'paybridge_outbox_rows{kind="forward",status="dead"}')).toBe(1)
    expect(sample(text, 'paybridge_outbox_rows{kind="forward",status="in_flight"}')).toBe(0)
    expect(sample(text, 'paybridge_forwards{status="delivered"}')).toBe(1)
    expect(sample(text, 'paybridge_forwards{status="dead"}')).toBe(1)
    expect(sample(text, 'paybridge_invoices{status="credited"}')).toBe(6)
    expect(sample(text, 'paybridge_invoices{status="issued"}')).toBe(1)
    expect(sample(text, 'paybridge_dead_letters{queue="stark-events"}')).toBe(1)
    if (engine === 'sqlite') {
      expect(sample(text, 'paybridge_queue_messages{queue="stark-events"}')).toBe(1)
      expect(sample(text, 'paybridge_queue_oldest_message_age_seconds{queue="stark-events"}')).toBe(90)
      expect(sample(text, 'paybridge_queue_oldest_message_age_seconds{queue="stripe-events"}')).toBe(0)
    } else {
      expect(text).not.toContain('paybridge_queue_messages{')
    }
  })

  it('follows the ledger between scrapes', async () => {
    const metrics = prometheusMetrics({ views, queueDepths, clock: () => NOW })
    expect(sample(await metrics.scrape(), 'paybridge_dead_letters{queue="stark-events"}')).toBe(1)
    await planted.exec(
      "INSERT INTO dead_letters (queue, message_id, body, reason, receive_count, created_at) VALUES ('stripe-events', 'm2', 'b', 'r', 1, 0)",
    )
    expect(sample(await metrics.scrape(), 'paybridge_dead_letters{queue="stripe-events"}')).toBe(1)
    await planted.exec("DELETE FROM dead_letters WHERE queue = 'stripe-events'")
    expect(await metrics.scrape()).not.toContain('paybridge_dead_letters{queue="stripe-events"}')
    if (engine === 'sqlite') {
      expect(sample(await metrics.scrape(), 'paybridge_queue_messages{queue="stark-events"}')).toBe(1)
      await planted.exec("DELETE FROM queue_messages WHERE id = 'msg-waiting'")
      const text = await metrics.scrape()
      expect(text).not.toContain('paybridge_queue_messages{queue="stark-events"}')
    }
  })

  it('keeps the ledger gauges at their last values when the ledger cannot be read, and counts the failure', async () => {
    let down = false
    const metrics = prometheusMetrics({
      views: {
        counts: async () => {
          if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
          return views.counts()
        },
      },
      clock: () => NOW,
    })
    expect(sample(await metrics.scrape(), 'paybridge_transfers{status="created"}')).toBe(4)
    down = true
    const text = await metrics.scrape()
    expect(sample(text, 'paybridge_transfers{status="created"}')).toBe(4)
    expect(sample(text, 'paybridge_metrics_ledger_read_failures_total')).toBe(1)
  })
})

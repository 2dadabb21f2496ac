import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import { type Rig, startRig } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// Both of the worker's consumers (Stark Bank events and Stripe events) report what they received,
// acked and dead-lettered in /metrics, under their queue's name.

describe('consumer metrics, end to end', () => {
  let rig: Rig
  beforeAll(async () => {
    rig = await startRig({
      env: {
        STRIPE_SERVICE_URL: 'http://127.0.0.1:9/stripe',
        STRIPE_WEBHOOK_SECRET: 'whsec_consumer_metrics',
      },
    })
  })
  afterAll(() => rig?.stop())

  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${rig.paybridge.port}/metrics`)).text()
    return (sample: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${sample} `))
          ?.split(' ')[1] ?? 0,
      )
  }

  it('counts what each consumer received, acked and dead-lettered, on the Stark Bank and the Stripe queue', async () => {
    for (const name of ['stark-events', 'stripe-events']) {
      const queue = sqliteQueue({ ledger: rig.ledgerFile, name })
      await queue.send([{ body: 'not json' }, { body: '{"neither": "an event"}' }])
    }
    await waitFor('both queues dead-lettered their messages', async () => {
      const value = await scrape()
      return (
        value('paybridge_queue_dead_lettered_total{queue="stark-events"}') === 2 &&
        value('paybridge_queue_dead_lettered_total{queue="stripe-events"}') === 2
      )
    })
    const value = await scrape()
    for (const queue of ['stark-events', 'stripe-events']) {
      expect(value(`paybridge_queue_received_total{queue="${queue}"}`)).toBe(2)
      expect(value(`paybridge_queue_acked_total{queue="${queue}"}`)).toBe(2)
    }
  })
})

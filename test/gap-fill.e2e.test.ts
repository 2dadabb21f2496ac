import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type Rig, startRig } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// Stark Bank gives up on a webhook after 3 retries; the gap filler finds those events by asking the
// API for undelivered ones, records them through the inbox, and marks them delivered.

describe('gap filling', () => {
  let rig: Rig
  beforeAll(async () => {
    rig = await startRig({ payShare: 1 })
  })
  afterAll(async () => {
    await rig.stop()
  })

  it('records events whose webhooks never arrived, pays them out once, and marks them delivered', async () => {
    rig.emulator.setWebhookUrl('http://127.0.0.1:9/webhook/starkbank') // nothing listens there
    await rig.paybridge.issueInvoicesNow()
    const total = rig.emulator.invoices().length
    await waitFor('every invoice paid', () => rig.emulator.invoices().every((i) => i.status === 'paid'))
    await waitFor('every webhook attempt failed at least once', () =>
      rig.emulator.events().every((e) => e.attempts.length > 0 && !e.isDelivered),
    )
    expect(rig.emulator.transfers().length).toBe(0)

    const report = await rig.paybridge.fillGaps()
    expect(report).toEqual({ seen: total, recorded: total, duplicates: 0, dead: 0 })
    await waitFor('one transfer per invoice', () => rig.emulator.transfers().length === total)
    expect(rig.emulator.events().every((e) => e.isDelivered)).toBe(true)
    expect(await rig.paybridge.fillGaps()).toEqual({ seen: 0, recorded: 0, duplicates: 0, dead: 0 })
  })

  it('deduplicates against webhooks that did arrive', async () => {
    rig.emulator.setWebhookUrl(rig.webhookUrl)
    const before = rig.emulator.transfers().length
    await rig.paybridge.issueInvoicesNow()
    const total = rig.emulator.invoices().length
    await waitFor('webhooks delivered and paid out', () => rig.emulator.transfers().length === total)
    // Mark one delivered event as undelivered again, as if Stark Bank had missed our 200.
    const event = rig.emulator.events().at(-1)!
    await fetch(`${rig.emulator.url}/v2/event/${event.id}`, {
      method: 'PATCH',
      body: '{"isDelivered":false}',
    }).catch(() => {})
    const report = await rig.paybridge.fillGaps()
    expect(report?.recorded).toBe(0)
    await Bun.sleep(200)
    expect(rig.emulator.transfers().length).toBe(total)
    expect(total).toBeGreaterThan(before)
  })

  it('tries a gap fill that failed at start again soon, not an hour later', async () => {
    const flaky = await startRig({
      payShare: 1,
      gapRetryMs: [200, 400],
      beforeStart: (emulator) => emulator.fail('GET /v2/event', { status: 500, times: 1 }),
    })
    try {
      await waitFor('the retried gap fill', () => flaky.emulator.counts['GET /v2/event'] >= 2)
      expect(flaky.logs.filter((l) => l.includes('gap fill failed')).length).toBe(1)
      expect(flaky.logs.some((l) => l.includes('"retryInMs":200'))).toBe(true)
    } finally {
      await flaky.stop()
    }
  })
})

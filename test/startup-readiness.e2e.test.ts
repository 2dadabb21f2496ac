import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type Rig, startRig } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// /readyz waits for Stark Bank's public key: the web role asks for it as it starts, so the key's
// round trip overlaps the rest of the start instead of following the first probe.

describe('readiness at start-up', () => {
  let rig: Rig
  beforeAll(async () => {
    rig = await startRig()
  })
  afterAll(async () => {
    await rig.stop()
  })

  it('fetches Stark Bank public key once as the web role starts, before any /readyz probe or webhook', async () => {
    await waitFor('the public key fetched', () => rig.emulator.counts['GET /v2/public-key'] === 1)
    const ready = await fetch(`http://127.0.0.1:${rig.paybridge.port}/readyz`)
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> }
    expect([ready.status, body.checks.starkKey?.ok]).toEqual([200, true])
    // The probe found the key loaded: no second fetch.
    expect(rig.emulator.counts['GET /v2/public-key']).toBe(1)
  })
})

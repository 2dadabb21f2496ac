import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { consoleLog } from '../../src/adapters/console-log.ts'
import { sqliteQueue } from '../../src/adapters/embedded-queue/queue.ts'
import { healthRoutes, starkKeyCheck } from '../../src/adapters/http/health.ts'
import { httpApp } from '../../src/adapters/http/server.ts'
import { starkWebhook } from '../../src/adapters/http/stark-webhook.ts'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
import { starkBank } from '../../src/adapters/starkbank/bank.ts'
import { generateKeyPair, privateKeyFromPem, sign } from '../../src/adapters/starkbank/ecdsa.ts'
import { starkSignatureVerifier } from '../../src/adapters/starkbank/webhook-signature.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../../src/emulator/emulator.ts'
import { PROJECT_ID } from '../support/paybridge.ts'
import { creditedBody } from './hostile-input.ts'

// A flood of forged webhooks must not turn paybridge into a client hammering Stark Bank: a bad
// signature may mean a rotated key, but the key is fetched again at most once a minute. Counted where
// it lands: the emulator's `GET /v2/public-key`.

const FORGED = Number(process.env.FORGED_REQUESTS ?? 3_000)
const quiet = consoleLog({ level: 'error', write: () => {} })
const forger = privateKeyFromPem(generateKeyPair().privatePem)

let emulator: StarkBankEmulator
let bank: ReturnType<typeof starkBank>
beforeAll(async () => {
  const project = generateKeyPair()
  emulator = await startStarkBankEmulator({
    port: 0,
    projects: { [PROJECT_ID]: project.publicPem },
    payShare: 0,
  })
  bank = starkBank({
    projectId: PROJECT_ID,
    privateKeyPem: project.privatePem,
    environment: 'sandbox',
    apiUrl: emulator.url,
    timeoutMs: 2_000,
  })
})
afterAll(() => emulator.stop())

function webhookServer(clock: () => number) {
  const ledger = openLedger(':memory:')
  const queue = sqliteQueue({ ledger, name: 'stark-events' })
  const verifier = starkSignatureVerifier({ fetchPublicKey: () => bank.publicKey(), clock, log: quiet })
  const app = httpApp({
    log: quiet,
    routes: {
      '/webhook/starkbank': starkWebhook({ verifier, queue, log: quiet }),
      '/': healthRoutes({ checks: { starkKey: starkKeyCheck(verifier) } }),
    },
  })
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch })
  return {
    url: `http://127.0.0.1:${server.port}/webhook/starkbank`,
    readyz: `http://127.0.0.1:${server.port}/readyz`,
    async stop() {
      await server.stop(true)
      ledger.close()
    },
  }
}

/** A forged `credited` webhook: well-formed, signed by a key that is not Stark Bank's. */
function forged(i: number) {
  const body = creditedBody(`91${String(i).padStart(14, '0')}`, `92${String(i).padStart(14, '0')}`)
  return { body, signature: sign(body, forger) }
}

describe('forged webhook signatures under load', () => {
  it(`answers ${FORGED} forged webhooks over HTTP with 401 and fetches the public key once`, async () => {
    const server = webhookServer(Date.now)
    const before = emulator.counts['GET /v2/public-key']
    const statuses = new Map<number, number>()
    const started = performance.now()
    let next = 0
    // 32 clients at once, each sending until the requests run out.
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < FORGED) {
          const { body, signature } = forged(next++)
          const response = await fetch(server.url, {
            method: 'POST',
            body,
            headers: { 'Digital-Signature': signature, 'Content-Type': 'application/json' },
          })
          await response.arrayBuffer()
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    const fetches = emulator.counts['GET /v2/public-key'] - before
    console.log(
      `forged signatures: ${FORGED} requests in ${seconds.toFixed(1)} s (${Math.round(FORGED / seconds)}/s), ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}, public key fetched ${fetches} time(s)`,
    )
    expect(Object.fromEntries(statuses)).toEqual({ 401: FORGED })
    expect(seconds).toBeLessThan(60)
    expect(fetches).toBe(1)
    await server.stop()
  }, 60_000)

  it('refetches the key at most once a minute while forged webhooks keep coming for ten minutes', async () => {
    // Ten minutes of forged traffic on a clock that moves 200 ms per request.
    let now = 1_800_000_000_000
    const server = webhookServer(() => now)
    const fetchedAt: number[] = []
    const before = emulator.counts['GET /v2/public-key']
    for (let i = 0; i < 3_000; i++) {
      const seen = emulator.counts['GET /v2/public-key']
      const { body, signature } = forged(i)
      const response = await fetch(server.url, {
        method: 'POST',
        body,
        headers: { 'Digital-Signature': signature },
      })
      await response.arrayBuffer()
      expect(response.status).toBe(401)
      if (emulator.counts['GET /v2/public-key'] > seen) fetchedAt.push(now)
      now += 200
    }
    const gaps = fetchedAt.slice(1).map((t, i) => t - (fetchedAt[i] as number))
    console.log(
      `forged signatures over 10 simulated minutes: key fetched ${fetchedAt.length} times, gaps ${gaps.map((g) => `${g / 1000}s`).join(' ')}`,
    )
    expect(emulator.counts['GET /v2/public-key'] - before).toBe(fetchedAt.length)
    expect(fetchedAt.length).toBeLessThanOrEqual(11)
    expect(gaps.every((gap) => gap >= 60_000)).toBe(true)
    await server.stop()
  }, 60_000)

  it('while the public key cannot be fetched, webhooks and /readyz share one fetch and back off after each failure', async () => {
    let now = 1_900_000_000_000
    const server = webhookServer(() => now)
    const fetches = () => emulator.counts['GET /v2/public-key'] - before
    const before = emulator.counts['GET /v2/public-key']
    emulator.fail('GET /v2/public-key', { status: 500, times: 3 })
    const post = async () => {
      const { body, signature } = forged(0)
      const response = await fetch(server.url, {
        method: 'POST',
        body,
        headers: { 'Digital-Signature': signature },
      })
      await response.arrayBuffer()
      return response.status
    }
    const ready = async () =>
      (await fetch(server.readyz).then((r) => r.json())) as { ok: boolean; reason?: string }
    // 300 forged webhooks and 300 readiness probes, 10 at a time, while the clock stands still.
    for (let round = 0; round < 30; round++) {
      const statuses = await Promise.all([
        ...Array.from({ length: 10 }, post),
        ...Array.from({ length: 10 }, async () => ((await ready()).ok ? 200 : 503)),
      ])
      expect(statuses.every((s) => s === 503)).toBe(true)
    }
    expect(fetches()).toBe(1)
    // Backoff after failures: 1 s, then 2 s, then 4 s.
    now += 999
    expect(await post()).toBe(503)
    expect(fetches()).toBe(1)
    now += 1
    expect(await post()).toBe(503)
    expect(fetches()).toBe(2)
    now += 1_999
    expect((await ready()).ok).toBe(false)
    expect(fetches()).toBe(2)
    now += 1
    expect(await post()).toBe(503)
    expect(fetches()).toBe(3)
    now += 4_000
    // The fault is used up: the key loads, forged webhooks are refused as forged, and paybridge is ready.
    expect(await post()).toBe(401)
    expect(await ready()).toMatchObject({ ok: true })
    expect(fetches()).toBe(4)
    await server.stop()
  }, 60_000)
})

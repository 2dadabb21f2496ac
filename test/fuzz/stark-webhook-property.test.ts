import { describe, expect, it } from 'bun:test'
import fc from 'fast-check'
import { consoleLog } from '../../src/adapters/console-log.ts'
import { sqliteQueue } from '../../src/adapters/embedded-queue/queue.ts'
import { httpApp } from '../../src/adapters/http/server.ts'
import { starkWebhook } from '../../src/adapters/http/stark-webhook.ts'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
import { generateKeyPair, privateKeyFromPem, sign } from '../../src/adapters/starkbank/ecdsa.ts'
import { starkSignatureVerifier } from '../../src/adapters/starkbank/webhook-signature.ts'
import { parseBankEvent } from '../../src/app/bank-event-schema.ts'
import { creditedBody, holds, hostileBody } from './hostile-input.ts'

// `POST /webhook/starkbank` built in-process (the composition root's own httpApp + starkWebhook) with
// a real verifier and the embedded queue, driven by `app.request()`. Bad input is a 4xx: never a 5xx,
// never a message on the queue, and memory does not grow with the number of requests.

const RUNS = Number(process.env.FUZZ_RUNS ?? 200)
const LIMIT = 64 * 1024

function webhookRig() {
  const keys = generateKeyPair()
  const secret = privateKeyFromPem(keys.privatePem)
  const ledger = openLedger(':memory:')
  const queue = sqliteQueue({ ledger, name: 'stark-events' })
  const log = consoleLog({ level: 'error', write: () => {} })
  let keyFetches = 0
  const verifier = starkSignatureVerifier({
    fetchPublicKey: async () => {
      keyFetches++
      return keys.publicPem
    },
    clock: Date.now,
    log,
  })
  const app = httpApp({ log, routes: { '/webhook/starkbank': starkWebhook({ verifier, queue, log }) } })
  const post = (body: string | Uint8Array, headers: Record<string, string>) =>
    app.request('/webhook/starkbank', { method: 'POST', body, headers })
  const queued = () =>
    (ledger.sqlite.query('select count(*) as n from queue_messages').get() as { n: number }).n
  return {
    post,
    queued,
    sign: (body: string | Uint8Array) => sign(body, secret),
    keyFetches: () => keyFetches,
    close: () => ledger.close(),
  }
}

/** What a client can put in a header: printable Latin-1, base64-looking, empty, or long. */
const headerValue = fc.oneof(
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 300,
  }),
  fc.base64String({ maxLength: 200 }),
  fc.uint8Array({ minLength: 60, maxLength: 80 }).map((b) => Buffer.from(b).toString('base64')),
  fc.constant(''),
  fc.integer({ min: 1, max: 16_000 }).map((n) => 'A'.repeat(n)),
)

const contentType = fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', '')

const anyBody = fc.oneof(
  hostileBody(creditedBody()).map((s) => s as string | Uint8Array),
  fc.uint8Array({ maxLength: 4_000 }),
  fc.integer({ min: LIMIT - 10, max: LIMIT + 10 }).map((n) => 'x'.repeat(n)),
)

describe('Stark Bank webhook under hostile input', () => {
  it('answers unsigned or wrongly signed bodies with 401 (or 413 when too large), never 5xx, and queues nothing', async () => {
    const rig = webhookRig()
    await holds(
      fc.asyncProperty(
        anyBody,
        fc.option(headerValue, { nil: undefined }),
        contentType,
        async (body, signature, type) => {
          const headers: Record<string, string> = type ? { 'Content-Type': type } : {}
          if (signature !== undefined) headers['Digital-Signature'] = signature
          const response = await rig.post(body, headers)
          expect([401, 413]).toContain(response.status)
          expect(await response.json()).toHaveProperty('error')
        },
      ),
      RUNS,
    )
    expect(rig.queued()).toBe(0)
    rig.close()
  })

  it('answers signed hostile bodies 400 (or 413), and queues each Stark Bank event among them once', async () => {
    const rig = webhookRig()
    const acceptedIds = new Set<string>()
    await holds(
      fc.asyncProperty(anyBody, async (body) => {
        const response = await rig.post(body, {
          'Digital-Signature': rig.sign(body),
          'Content-Type': 'application/json',
        })
        const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length
        const text = typeof body === 'string' ? body : new TextDecoder().decode(body)
        const expected = bytes > LIMIT ? 413 : parseBankEvent(text).ok ? 200 : 400
        expect(response.status).toBe(expected)
        if (response.status === 200) acceptedIds.add(((await response.json()) as { eventId: string }).eventId)
      }),
      RUNS,
    )
    // The queue keeps one message per event id (the dedup id), as SQS FIFO does.
    expect(rig.queued()).toBe(acceptedIds.size)
    rig.close()
  })

  it('keeps memory flat over thousands of hostile requests', async () => {
    const rig = webhookRig()
    const samples = fc.sample(
      fc.tuple(anyBody, fc.boolean()).map(([body, signed]) => ({ body, signed })),
      { numRuns: 400, seed: 7 },
    )
    const round = async () => {
      for (const { body, signed } of samples) {
        const headers = { 'Digital-Signature': signed ? rig.sign(body) : 'bm90IGEgc2lnbmF0dXJl' }
        const response = await rig.post(body, headers)
        expect(response.status).toBeLessThan(500)
        await response.arrayBuffer()
      }
    }
    await round() // warm up: JIT, caches, first queue rows
    Bun.gc(true)
    const before = process.memoryUsage().rss
    for (let i = 0; i < 8; i++) await round()
    Bun.gc(true)
    const grownMb = (process.memoryUsage().rss - before) / 1024 / 1024
    console.log(`webhook fuzz memory: ${samples.length * 8} requests, RSS grew ${grownMb.toFixed(1)} MB`)
    // Queued valid events live in the in-memory ledger; everything else must be released.
    expect(grownMb).toBeLessThan(64)
    rig.close()
  }, 60_000)
})

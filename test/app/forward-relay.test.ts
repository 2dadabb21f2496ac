import { describe, expect, it } from 'bun:test'
import { consoleLog } from '../../src/adapters/console-log.ts'
import { forwardRelay } from '../../src/app/relay-forwards.ts'
import { seededRandom } from '../../src/domain/random.ts'
import type { ClaimedForward, DeliveredForward, ForwardStore } from '../../src/ports/forward-store.ts'

// The forward relay's ledger steps, seen at the ForwardStore port (a fake) with a fake downstream:
// how many steps it takes for a group of POSTs, never what SQL they run.

const claimed = (id: string): ClaimedForward => ({
  id,
  type: 'invoice.paid',
  body: `{"id":"${id}"}`,
  attempt: 1,
  tries: 1,
  firstAttemptAt: 0,
})

/** A ledger with `count` due forwards that records every step it is asked for. */
function fakeStore(count: number) {
  const due = Array.from({ length: count }, (_, i) => claimed(`evt_${i}`))
  const claims: number[] = []
  const deliveredSteps: string[][] = []
  const store = {
    async claimForwards(limit: number) {
      claims.push(limit)
      return due.splice(0, limit)
    },
    async forwardsDelivered(delivered: DeliveredForward[]) {
      deliveredSteps.push(delivered.map((d) => d.id))
    },
    async forwardRetry() {},
    async forwardDead() {},
  } as unknown as ForwardStore
  return { store, claims, deliveredSteps }
}

/** A downstream whose answers the test releases: `answer(n)` ends the n oldest POSTs with a 200. */
function heldDownstream() {
  const held: (() => void)[] = []
  const fetch = (async () => {
    await new Promise<void>((resolve) => held.push(resolve))
    return new Response('{}', { status: 200 })
  }) as unknown as typeof globalThis.fetch
  return {
    fetch,
    posts: () => held.length,
    answer: (n: number) => {
      for (const resolve of held.splice(0, n)) resolve()
    },
  }
}

function relayOf(store: ForwardStore, fetch: typeof globalThis.fetch, concurrency: number) {
  return forwardRelay({
    store,
    url: 'http://downstream.invalid/api/v1/Stripe/Webhook',
    sign: () => 't=0,v1=00',
    timeoutMs: 5_000,
    concurrency,
    retry: { baseMs: 10, capMs: 100, forMs: 60_000 },
    leaseMs: 60_000,
    clock: Date.now,
    random: seededRandom(1),
    log: consoleLog({ level: 'error', write: () => {} }),
    fetch,
  })
}

const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await Bun.sleep(5)
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

describe('forward relay ledger steps', () => {
  it('records the 2xx answers that arrive together in one ledger step', async () => {
    const { store, deliveredSteps } = fakeStore(6)
    const downstream = heldDownstream()
    const relay = relayOf(store, downstream.fetch, 6)
    await relay.relayOnce()
    await until('six POSTs', () => downstream.posts() === 6)
    downstream.answer(6)
    await relay.drain()
    expect(deliveredSteps).toEqual([['evt_0', 'evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5']])
  })

  it('claims again only once half the slots are free, so one claim leases several forwards', async () => {
    const { store, claims } = fakeStore(20)
    const downstream = heldDownstream()
    const relay = relayOf(store, downstream.fetch, 4)
    await relay.relayOnce()
    await until('four POSTs', () => downstream.posts() === 4)
    // One slot free of four: the relay waits rather than claim one forward.
    const waiting = relay.relayOnce()
    downstream.answer(1)
    expect(await waiting).toEqual({ claimed: 0, more: true })
    const stillWaiting = relay.relayOnce()
    downstream.answer(1)
    expect(await stillWaiting).toEqual({ claimed: 0, more: true })
    expect(await relay.relayOnce()).toEqual({ claimed: 2, more: true })
    expect(claims).toEqual([4, 2])
    expect(relay.inFlight()).toBe(4)
    downstream.answer(4)
    await relay.drain()
  })
})

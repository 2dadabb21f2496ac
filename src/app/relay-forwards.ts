import type { Random } from '../domain/random.ts'
import { classifyStatus, nextStep, type RetryWindow, retryAfterMs } from '../domain/stripe-event.ts'
import type { Clock } from '../ports/clock.ts'
import type { ClaimedForward, DeliveredForward, ForwardStore } from '../ports/forward-store.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'

export interface ForwardRelayOptions {
  store: ForwardStore
  /** The full endpoint: `{STRIPE_SERVICE_URL}/api/v1/Stripe/Webhook`. */
  url: string
  /** Makes `Stripe-Signature` for a body at a time (unix seconds), with the downstream's secret. */
  sign: (body: string, unixSeconds: number) => string
  timeoutMs: number
  /** In-flight POSTs to the destination at most. */
  concurrency: number
  retry: RetryWindow
  /** Must outlast a POST (`timeoutMs`) and the write after it, or a slow POST is sent twice. */
  leaseMs: number
  clock: Clock
  random: Random
  log: Log
  fetch?: typeof fetch
  /** Times every POST by outcome (status, timeout or network). */
  metrics?: Pick<Metrics, 'downstreamCall'>
}

/** The attempt number on every POST, for the downstream's logs (attempts restart at 1 after a replay). */
export const ATTEMPT_HEADER = 'Paybridge-Attempt'
/** The first bytes of a refusal kept in the ledger. */
const KEPT_BODY_BYTES = 500

/**
 * Sends the outbox's forwards downstream, at most `concurrency` at a time; each POST runs in the
 * background so one slow event never holds up the others. At-least-once: a forward is marked
 * delivered only after the 2xx, so a crash between the two sends it again once its lease runs out.
 */
export function forwardRelay(options: ForwardRelayOptions) {
  const { store, clock, random, log, url, sign, timeoutMs } = options
  const post = options.fetch ?? fetch
  const inFlight = new Set<Promise<void>>()
  let slotFreed: (() => void) | undefined
  // A slot frees only once its outcome is written; claims wait for this many free slots, so one
  // claim (one transaction) leases several forwards instead of one each time a POST ends.
  const claimAtLeast = Math.ceil(options.concurrency / 2)

  // The 2xx that land in one turn of the event loop share one transaction; each POST's task ends
  // (and its slot frees) when that transaction has committed, or fails with it.
  let delivered: { d: DeliveredForward; resolve: () => void; reject: (err: unknown) => void }[] = []
  function recordDelivered(d: DeliveredForward): Promise<void> {
    if (delivered.length === 0) setImmediate(writeDelivered)
    return new Promise((resolve, reject) => delivered.push({ d, resolve, reject }))
  }
  function writeDelivered(): void {
    const group = delivered
    delivered = []
    store
      .forwardsDelivered(
        group.map((g) => g.d),
        clock(),
      )
      .then(
        () => {
          for (const g of group) g.resolve()
        },
        (err) => {
          for (const g of group) g.reject(err)
        },
      )
  }

  async function failed(c: ClaimedForward, statusCode: number | null, error: string, retryAfter?: number) {
    const step = nextStep({
      attempt: c.tries,
      firstAttemptAt: c.firstAttemptAt,
      now: clock(),
      window: options.retry,
      random,
      retryAfterMs: retryAfter,
    })
    const ids = { eventId: c.id, attempt: c.tries, claim: c.attempt, status: statusCode ?? undefined, error }
    if (step.kind === 'dead') {
      await store.forwardDead(
        c.id,
        c.attempt,
        { statusCode, error: `${step.reason}; last: ${error}` },
        clock(),
      )
      log.error('forward dead after retries', { ...ids, reason: step.reason })
      return
    }
    await store.forwardRetry(c.id, c.attempt, { statusCode, error, nextAttemptAt: step.at }, clock())
    log.warn('forward failed; will retry', { ...ids, retryInMs: step.delayMs })
  }

  async function deliver(c: ClaimedForward): Promise<void> {
    const started = clock()
    let response: Response
    try {
      response = await post(url, {
        method: 'POST',
        body: c.body,
        headers: {
          'Content-Type': 'application/json',
          'Stripe-Signature': sign(c.body, Math.floor(started / 1000)),
          [ATTEMPT_HEADER]: String(c.tries),
          'User-Agent': 'paybridge',
        },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      })
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
      options.metrics?.downstreamCall(timedOut ? 'timeout' : 'network', (clock() - started) / 1000)
      return failed(
        c,
        null,
        timedOut ? `no answer within ${timeoutMs} ms` : `network error: ${describe(err)}`,
      )
    }
    const status = response.status
    const latencyMs = clock() - started
    options.metrics?.downstreamCall(status, latencyMs / 1000)
    switch (classifyStatus(status)) {
      case 'delivered':
        // The 2xx is the fact that matters; the body is not read.
        await response.body?.cancel().catch(() => undefined)
        await recordDelivered({ id: c.id, statusCode: status, latencyMs })
        log.info('forward delivered', { eventId: c.id, type: c.type, attempt: c.tries, status, latencyMs })
        return
      case 'retry': {
        const text = await head(response)
        const wait = retryAfterMs(response.headers.get('Retry-After'), clock())
        return failed(c, status, `HTTP ${status}${text ? `: ${text}` : ''}`, wait)
      }
      case 'reject': {
        const text = await head(response)
        const error = `HTTP ${status}${text ? `: ${text}` : ''}`
        await store.forwardDead(c.id, c.attempt, { statusCode: status, error }, clock())
        log.error('forward refused by the downstream', { eventId: c.id, attempt: c.tries, status, error })
        return
      }
    }
  }

  /**
   * Claims as many due forwards as there are free slots and starts their POSTs. While fewer than
   * half the slots are free it waits for one to free up. `more` says a next call may find work at once.
   */
  async function relayOnce(): Promise<{ claimed: number; more: boolean }> {
    const free = options.concurrency - inFlight.size
    if (free < claimAtLeast) {
      await new Promise<void>((resolve) => (slotFreed = resolve))
      return { claimed: 0, more: true }
    }
    const claimed = await store.claimForwards(free, clock(), options.leaseMs)
    for (const c of claimed) {
      const task = deliver(c)
        .catch((err) =>
          // Only the ledger write can throw here; the lease makes the forward due again.
          log.error('recording a forward outcome failed', { eventId: c.id, error: describe(err) }),
        )
        .finally(() => {
          inFlight.delete(task)
          const wake = slotFreed
          slotFreed = undefined
          wake?.()
        })
      inFlight.add(task)
    }
    return { claimed: claimed.length, more: claimed.length === free }
  }

  /** Waits for the POSTs in hand (each ends within `timeoutMs`). */
  async function drain(): Promise<void> {
    slotFreed?.()
    while (inFlight.size > 0) await Promise.all([...inFlight])
  }

  return { relayOnce, drain, inFlight: () => inFlight.size }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message
}

/** The first bytes of a response body, as text; empty when it cannot be read in time. */
async function head(response: Response): Promise<string> {
  const reader = response.body?.getReader()
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < KEPT_BODY_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.length
    }
  } catch {
    // Cut off by the timeout or the connection: keep what arrived.
  } finally {
    reader.cancel().catch(() => undefined)
  }
  const bytes = Buffer.concat(chunks).subarray(0, KEPT_BODY_BYTES)
  return new TextDecoder().decode(bytes).trim()
}

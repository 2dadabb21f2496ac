import { sign } from '../adapters/starkbank/ecdsa.ts'
import type { TimerSet } from './timers.ts'
import type { WireEvent } from './wire.ts'

export interface DeliveryAttempt {
  at: string
  url: string
  /** HTTP status of the receiver's answer; absent when it could not be reached. */
  status?: number
  error?: string
  /** How long the receiver took to answer (or to fail). */
  ms: number
}

export interface WebhookDeps {
  /** The emulator's own webhook URL (EMULATOR_WEBHOOK_URL, or set later), read at each attempt. */
  url: () => string | undefined
  /** The URLs of webhook subscriptions (POST /v2/webhook) to the event's service. */
  subscribers: (event: WireEvent) => string[]
  signingKey: () => Uint8Array
  /** One entry per retry after the first attempt. */
  retryDelaysMs: number[]
  timeoutMs: number
  timers: TimerSet
  onAttempt: (eventId: string, attempt: DeliveryAttempt) => void
  onDelivered: (eventId: string) => void
}

/** The webhook body is the event without `isDelivered`, signed over the exact bytes sent. */
export function webhookBody(event: WireEvent): string {
  const { isDelivered: _, ...rest } = event
  return JSON.stringify({ event: rest })
}

/**
 * Posts each event to the webhook URL and to every subscription to its service, as Stark Bank does;
 * a non-2xx answer or a network error is retried per the delays, for that URL alone.
 */
export function webhookDelivery(deps: WebhookDeps) {
  async function attempt(event: WireEvent, target: () => string | undefined, retry: number): Promise<void> {
    const url = target()
    if (!url || deps.timers.stopped) return
    const body = webhookBody(event)
    const at = new Date().toISOString()
    const started = performance.now()
    const ms = () => Math.round(performance.now() - started)
    let delivered = false
    try {
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/json', 'Digital-Signature': sign(body, deps.signingKey()) },
        signal: AbortSignal.timeout(deps.timeoutMs),
      })
      await response.arrayBuffer().catch(() => undefined)
      delivered = response.ok
      deps.onAttempt(event.id, { at, url, status: response.status, ms: ms() })
    } catch (error) {
      deps.onAttempt(event.id, {
        at,
        url,
        error: error instanceof Error ? error.message : String(error),
        ms: ms(),
      })
    }
    if (delivered) return deps.onDelivered(event.id)
    const delay = deps.retryDelaysMs[retry]
    if (delay !== undefined) deps.timers.later(delay, () => void attempt(event, target, retry + 1))
  }

  return {
    send(event: WireEvent) {
      void attempt(event, deps.url, 0)
      const own = deps.url()
      for (const url of new Set(deps.subscribers(event))) if (url !== own) void attempt(event, () => url, 0)
    },
  }
}

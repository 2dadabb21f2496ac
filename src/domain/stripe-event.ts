import type { Random } from './random.ts'
import { type BackoffPolicy, backoffMs } from './retry.ts'

/** How a Stripe event reached the queue. */
export type StripeEventShape = 'raw' | 'eventbridge' | 'sns'

/**
 * A Stripe event as paybridge forwards it. `body` is the exact text POSTed downstream on every attempt
 * (the raw message text when the message was the event itself, else the event re-serialised from its
 * envelope): the signature covers these bytes, so they never change between attempts.
 */
export interface StripeEvent {
  /** `evt_…`: the deduplication key. */
  id: string
  type: string
  shape: StripeEventShape
  body: string
}

/** What a downstream answer means: delivered, worth trying again, or refused for good. */
export type ResponseClass = 'delivered' | 'retry' | 'reject'

/**
 * 2xx delivered; 408, 425, 429 and 5xx are the downstream's trouble and retried; any other status
 * (other 4xx, and 1xx/3xx which `fetch` leaves unresolved) means it will never take this body.
 */
export function classifyStatus(status: number): ResponseClass {
  if (status >= 200 && status < 300) return 'delivered'
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'retry'
  return 'reject'
}

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP date. Undefined when absent
 * or unreadable; never negative.
 */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  const value = header?.trim()
  if (!value) return undefined
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}

/** The retry schedule of one destination: capped exponential backoff, for `forMs` since the first attempt. */
export interface RetryWindow extends BackoffPolicy {
  forMs: number
}

export type NextStep = { kind: 'retry'; at: number; delayMs: number } | { kind: 'dead'; reason: string }

/**
 * After a failed attempt (`attempt` counts from 1): try again after a jittered backoff that honours
 * the server's `Retry-After`, as long as the retry window opened at `firstAttemptAt` lasts. The last
 * retry is pulled in to the end of the window rather than skipped; a failure at or past the end is final.
 */
export function nextStep(input: {
  attempt: number
  firstAttemptAt: number
  now: number
  window: RetryWindow
  random: Random
  retryAfterMs?: number | undefined
}): NextStep {
  const { attempt, firstAttemptAt, now, window } = input
  const end = firstAttemptAt + window.forMs
  if (now >= end) {
    const hours = window.forMs / 3_600_000
    const span = hours >= 1 ? `${Number(hours.toFixed(1))} h` : `${window.forMs} ms`
    return { kind: 'dead', reason: `gave up after ${attempt} attempts over ${span}` }
  }
  const delay = backoffMs(attempt, input.random, window, input.retryAfterMs)
  const at = Math.min(now + delay, end)
  return { kind: 'retry', at, delayMs: at - now }
}

/** Event ids Stripe hands out; anything else is not a Stripe event. */
export const STRIPE_EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/

/** The inbox's subscription for a Stripe event type: its first segment (`invoice` of `invoice.paid`). */
export function stripeSubscription(type: string): string {
  return type.split('.')[0] || type
}

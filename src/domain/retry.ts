import type { Random } from './random.ts'

export interface BackoffPolicy {
  baseMs: number
  capMs: number
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): capped exponential with jitter over the
 * upper half, so retries spread out but never come sooner than half the step. A server's
 * `Retry-After` wins when it asks for longer.
 */
export function backoffMs(attempt: number, random: Random, policy: BackoffPolicy, retryAfterMs = 0): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1))
  const jittered = Math.round(step / 2 + (random() * step) / 2)
  return Math.max(jittered, Math.min(retryAfterMs, policy.capMs * 4))
}

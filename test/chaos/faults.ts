import type { EmulatorRoute, Fault } from '../../src/emulator/emulator.ts'
import type { Reply } from '../support/stripe-downstream.ts'

// The faults a chaos run injects, drawn from a seeded generator so that a run can be repeated.

export type Random = () => number

/** mulberry32: small, fast, good enough to pick faults; the seed makes a run repeatable. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T

export const between = (random: Random, min: number, max: number) =>
  min + Math.floor(random() * (max - min + 1))

export function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
  }
  return copy
}

export type StarkFaultKind =
  | '500'
  | '429 Retry-After'
  | 'hang past timeout'
  | 'slow'
  | 'lost answer (500 after work)'
  | 'lost answer (hang after work)'

/** Stark Bank faults paybridge's request timeout is `timeoutMs`. */
export function starkFault(kind: StarkFaultKind, random: Random, timeoutMs: number): Fault {
  switch (kind) {
    case '500':
      return { status: 500, times: between(random, 1, 2) }
    case '429 Retry-After':
      return { status: 429, retryAfterSeconds: 1 }
    case 'hang past timeout':
      return { delayMs: timeoutMs * 3, status: 503 }
    case 'slow':
      return { delayMs: Math.floor(timeoutMs * (0.2 + random() * 0.5)) }
    case 'lost answer (500 after work)':
      return { status: 500, afterProcessing: true }
    case 'lost answer (hang after work)':
      return { delayMs: timeoutMs * 3, afterProcessing: true }
  }
}

export const STARK_FAULTS: readonly StarkFaultKind[] = [
  '500',
  '429 Retry-After',
  'hang past timeout',
  'slow',
  'lost answer (500 after work)',
  'lost answer (hang after work)',
]

/** Routes paybridge calls while it runs, weighted toward the one that moves money. */
export const FAULT_ROUTES: readonly EmulatorRoute[] = [
  'POST /v2/transfer',
  'POST /v2/transfer',
  'POST /v2/transfer',
  'GET /v2/transfer',
  'GET /v2/public-key',
  'GET /v2/event',
  'PATCH /v2/event/:id',
]

export type StripeFaultKind =
  | '500'
  | '429 Retry-After'
  | 'hang past timeout'
  | 'slow'
  | 'delivered, answer too late'

export function stripeReply(kind: StripeFaultKind, random: Random, timeoutMs: number): Reply {
  switch (kind) {
    case '500':
      return { status: 500 }
    case '429 Retry-After':
      return { status: 429, retryAfter: '1' }
    case 'hang past timeout':
      return { hang: true }
    case 'slow':
      return { status: 200, delayMs: Math.floor(timeoutMs * (0.2 + random() * 0.5)) }
    case 'delivered, answer too late':
      return { status: 200, delayMs: timeoutMs * 2 }
  }
}

export const STRIPE_FAULTS: readonly StripeFaultKind[] = [
  '500',
  '429 Retry-After',
  'hang past timeout',
  'slow',
  'delivered, answer too late',
]

import { emptyDay, type Reconciliation } from './reconcile.ts'

/** Which UTC days a reconciliation covers; the same for every ledger engine. */
export interface ReconcileOptions {
  /** Only this UTC day (`YYYY-MM-DD`). */
  day?: string | undefined
  /** Only this UTC day and later (`YYYY-MM-DD`); ignored with `day`. */
  from?: string | undefined
  /** For the grace period of transfers still pending. Default: now. */
  now?: number
  graceMs?: number
}

const DAY_MS = 86_400_000
const DAY = /^\d{4}-\d{2}-\d{2}$/

/** Milliseconds at 00:00 UTC of `day`; throws on anything but a real `YYYY-MM-DD`. */
export function dayStart(day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`)
  if (!DAY.test(day) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) {
    throw new RangeError(`not a day: "${day}" (want YYYY-MM-DD)`)
  }
  return ms
}

/** The time range [start, end) the options select, in ms. */
export function reconcileWindow(options: ReconcileOptions): { start: number; end: number } {
  const start = options.day ? dayStart(options.day) : options.from ? dayStart(options.from) : 0
  return { start, end: options.day ? start + DAY_MS : Number.MAX_SAFE_INTEGER }
}

/** A requested day with nothing on it is still reported, as an empty balanced day. */
export function withRequestedDay(result: Reconciliation, options: ReconcileOptions): Reconciliation {
  if (options.day && !result.days.some((d) => d.day === options.day)) {
    result.days.push(emptyDay(options.day))
  }
  return result
}

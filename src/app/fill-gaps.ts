import type { Bank } from '../ports/bank.ts'
import { type Clock, realTimers, type Timers } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Store } from '../ports/store.ts'
import type { HandleResult } from './record-bank-event.ts'

export interface GapReport {
  seen: number
  recorded: number
  duplicates: number
  dead: number
}

/**
 * Stark Bank gives up on a webhook after 3 retries. This pages through the events it still holds as
 * undelivered, runs each through the worker's own step (so the inbox deduplicates against webhooks
 * that did arrive), and marks an event delivered at Stark Bank only after it is recorded.
 */
export function gapFiller(deps: {
  bank: Bank
  store: Pick<Store, 'deadLetter'>
  record: (body: string) => Promise<HandleResult>
  clock: Clock
  log: Log
  maxPages?: number
}) {
  const { bank, log } = deps
  const maxPages = deps.maxPages ?? 50

  async function fillOnce(): Promise<GapReport> {
    const report: GapReport = { seen: 0, recorded: 0, duplicates: 0, dead: 0 }
    let cursor: string | null = null
    let pages = 0
    do {
      const page = await bank.undeliveredEvents(cursor)
      for (const { id, raw } of page.events) {
        report.seen++
        const body = JSON.stringify({ event: raw })
        const result = await deps.record(body)
        if (result.kind === 'dead') {
          await deps.store.deadLetter(
            { queue: 'starkbank-gap-fill', messageId: id, body, reason: result.reason, receiveCount: 1 },
            deps.clock(),
          )
          report.dead++
        } else if (result.note === 'duplicate') report.duplicates++
        else report.recorded++
        await bank.markEventDelivered(id)
      }
      cursor = page.cursor
      pages++
    } while (cursor && pages < maxPages)
    if (report.seen > 0) log.info('gap fill: undelivered Stark Bank events recorded', { ...report })
    return report
  }

  return { fillOnce }
}

/** Delays before retrying a failed gap fill: Stark Bank's 429 or 5xx is tried again soon, not an hour later. */
export const GAP_RETRY_MS = [30_000, 120_000, 600_000]

/**
 * Gap filling as the worker runs it: at start, then every `everyMs` (hourly), and after a failed
 * run again after each of `retryMs` in turn. A failure is logged, never thrown; `filled` runs after
 * every successful fill (the relay has new transfers to send).
 */
export function gapFilling(
  deps: Parameters<typeof gapFiller>[0] & {
    filled?: () => void
    retryMs?: number[]
    everyMs?: number
    timers?: Timers
  },
) {
  const gaps = gapFiller(deps)
  const retryMs = deps.retryMs ?? GAP_RETRY_MS
  const timers = deps.timers ?? realTimers
  let cancelRetry: (() => void) | undefined
  let cancelEvery: (() => void) | undefined

  /** One fill; on failure the `attempt`-th retry is scheduled (none past the last delay). */
  async function fill(attempt = 0): Promise<GapReport | undefined> {
    try {
      const report = await gaps.fillOnce()
      deps.filled?.()
      return report
    } catch (err) {
      const retryInMs = retryMs[attempt]
      deps.log.error('gap fill failed', {
        error: err instanceof Error ? err.message : String(err),
        retryInMs: retryInMs ?? 'at the next hourly run',
      })
      cancelRetry?.()
      cancelRetry =
        retryInMs === undefined ? undefined : timers.after(retryInMs, () => void fill(attempt + 1))
      return undefined
    }
  }

  return {
    /** Fills now without scheduling a retry (an operator's or a test's run). */
    fillNow: () => fill(retryMs.length),
    start(options: { now: boolean }): void {
      cancelEvery ??= timers.every(deps.everyMs ?? 3_600_000, () => void fill())
      if (options.now) void fill()
    },
    stop(): void {
      cancelEvery?.()
      cancelRetry?.()
      cancelEvery = undefined
      cancelRetry = undefined
    },
  }
}

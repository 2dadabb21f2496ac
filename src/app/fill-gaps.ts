import type { Bank } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
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

import { Cron } from 'croner'
import type { Clock } from '../../ports/clock.ts'
import type { Log } from '../../ports/log.ts'

export interface InvoiceSchedule {
  /** Resolves after the start-up catch-up; true when it ran a missed slot. */
  start(): Promise<boolean>
  stop(): void
  running(): boolean
}

/**
 * Fires the invoice issuer on a cron pattern. Each tick's slot is the schedule time it belongs to, so
 * overlapping ticks and other processes find the slot taken. At start, a slot that was missed (no
 * run since the latest schedule time) is run once. Unfinished runs are retried every `resumeEveryMs`.
 */
export function invoiceSchedule(deps: {
  pattern: string
  issuer: { runSlot(slot: Date): Promise<unknown>; resume(): Promise<void> }
  lastPlannedAt: () => Promise<number | undefined>
  clock: Clock
  log: Log
  resumeEveryMs?: number
}): InvoiceSchedule {
  const { log } = deps
  let job: Cron | undefined
  let resumeTimer: Timer | undefined

  const slotAt = (now: number): Date | undefined =>
    new Cron(deps.pattern, { paused: true }).previousRuns(1, new Date(now + 1))[0]

  const fire = async () => {
    const slot = slotAt(deps.clock())
    if (!slot) return
    try {
      await deps.issuer.runSlot(slot)
    } catch (err) {
      log.error('scheduled invoice run failed', {
        slot: slot.toISOString(),
        error: err instanceof Error ? err.message : String(err),
      })
    }
  }

  return {
    async start() {
      job = new Cron(
        deps.pattern,
        { protect: true, catch: (err) => log.error('scheduler tick failed', { error: String(err) }) },
        fire,
      )
      log.info('invoice scheduler started', { pattern: deps.pattern, nextRun: job.nextRun()?.toISOString() })
      resumeTimer = setInterval(() => void deps.issuer.resume(), deps.resumeEveryMs ?? 60_000)
      await deps.issuer.resume()
      const latestSlot = slotAt(deps.clock())
      const last = await deps.lastPlannedAt()
      if (latestSlot && (last === undefined || last < latestSlot.getTime())) {
        log.info('no run since the latest schedule time; running one now', { slot: latestSlot.toISOString() })
        await fire()
        return true
      }
      return false
    },
    stop() {
      job?.stop()
      clearInterval(resumeTimer)
    },
    running: () => job?.isRunning() ?? false,
  }
}

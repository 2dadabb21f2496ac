import { describe, expect, it } from 'bun:test'
import { gapFilling } from '../../src/app/fill-gaps.ts'
import type { Bank, BankEventPage } from '../../src/ports/bank.ts'
import type { Timers } from '../../src/ports/clock.ts'
import { recordingLog } from '../support/relay-ledgers.ts'

/** Timers that fire only when the test says so. */
function manualTimers() {
  const pending: { ms: number; fn: () => void; every: boolean; cancelled: boolean }[] = []
  const add = (every: boolean) => (ms: number, fn: () => void) => {
    const timer = { ms, fn, every, cancelled: false }
    pending.push(timer)
    return () => {
      timer.cancelled = true
    }
  }
  const timers: Timers = { after: add(false), every: add(true) }
  const live = () => pending.filter((t) => !t.cancelled)
  return {
    timers,
    /** The delays of the one-shot timers still waiting. */
    retries: () =>
      live()
        .filter((t) => !t.every)
        .map((t) => t.ms),
    intervals: () =>
      live()
        .filter((t) => t.every)
        .map((t) => t.ms),
    /** Fires the one-shot timers waiting now, once each. */
    fireRetries() {
      for (const t of live().filter((t) => !t.every)) {
        t.cancelled = true
        t.fn()
      }
    },
  }
}

/** A Stark Bank whose undelivered-events page fails `failures` times, then is empty. */
function bankFailing(failures: number) {
  const calls = { pages: 0 }
  const bank = {
    undeliveredEvents: async (): Promise<BankEventPage> => {
      calls.pages++
      if (calls.pages <= failures) throw new Error('Stark Bank answered 503')
      return { events: [], cursor: null }
    },
    markEventDelivered: async () => undefined,
  } as unknown as Bank
  return { bank, calls }
}

function filling(failures: number, filled: () => void = () => undefined) {
  const { bank, calls } = bankFailing(failures)
  const clock = manualTimers()
  const { log, lines } = recordingLog()
  const gaps = gapFilling({
    bank,
    store: { deadLetter: async () => undefined },
    record: async () => ({ kind: 'done', note: 'recorded' }),
    clock: () => 0,
    log,
    filled,
    retryMs: [200, 400],
    timers: clock.timers,
  })
  return { gaps, calls, clock, lines }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('gap filling', () => {
  it('fills at start and every hour', async () => {
    const { gaps, calls, clock } = filling(0)
    gaps.start({ now: true })
    await flush()
    expect(calls.pages).toBe(1)
    expect(clock.intervals()).toEqual([3_600_000])
    gaps.stop()
    expect(clock.intervals()).toEqual([])
  })

  it('tries a failed fill again after each retry delay in turn, then leaves it to the hourly run', async () => {
    const { gaps, calls, clock, lines } = filling(10)
    gaps.start({ now: true })
    await flush()
    expect(clock.retries()).toEqual([200])
    clock.fireRetries()
    await flush()
    expect(clock.retries()).toEqual([400])
    clock.fireRetries()
    await flush()
    expect(calls.pages).toBe(3)
    expect(clock.retries()).toEqual([])
    expect(lines.filter((l) => l.msg === 'gap fill failed').map((l) => l.fields?.retryInMs)).toEqual([
      200,
      400,
      'at the next hourly run',
    ])
  })

  it('says the relay has work after a fill that succeeds, and only then', async () => {
    let filled = 0
    const { gaps, clock } = filling(1, () => filled++)
    gaps.start({ now: true })
    await flush()
    expect(filled).toBe(0)
    clock.fireRetries()
    await flush()
    expect(filled).toBe(1)
  })

  it('schedules no retry after a failed fill asked for by hand, and stop cancels a pending retry', async () => {
    const { gaps, clock } = filling(10)
    expect(await gaps.fillNow()).toBeUndefined()
    expect(clock.retries()).toEqual([])
    gaps.start({ now: true })
    await flush()
    expect(clock.retries()).toEqual([200])
    gaps.stop()
    expect(clock.retries()).toEqual([])
  })
})

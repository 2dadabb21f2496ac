import { describe, expect, it } from 'bun:test'
import { recentReconciliation } from '../../src/app/reconcile-recent.ts'
import type { Reconciliation } from '../../src/domain/reconcile.ts'
import type { Timers } from '../../src/ports/clock.ts'
import { recordingLog } from '../support/relay-ledgers.ts'

const NOW = Date.parse('2026-11-25T12:00:00Z')

/** Interval timers the test fires by hand. */
function manualIntervals() {
  const every: { ms: number; fn: () => void; cancelled: boolean }[] = []
  const timers: Timers = {
    after: () => () => undefined,
    every: (ms, fn) => {
      const t = { ms, fn, cancelled: false }
      every.push(t)
      return () => {
        t.cancelled = true
      }
    },
  }
  const live = () => every.filter((t) => !t.cancelled)
  return {
    timers,
    live,
    fire: () => {
      for (const t of live()) t.fn()
    },
  }
}

const unbalanced = (mismatches: number): Reconciliation => ({
  ok: mismatches === 0,
  days: [],
  mismatches: Array.from({ length: mismatches }) as Reconciliation['mismatches'],
  anomalies: [],
})

describe('recent reconciliation', () => {
  it('reconciles the last 7 UTC days every 10 minutes and reports each result to the metrics', async () => {
    const asked: { from: string; now: number }[] = []
    const reported: { ok: boolean; mismatches: number; at: number }[] = []
    const clock = manualIntervals()
    const recent = recentReconciliation({
      reconcile: (window) => {
        asked.push(window)
        return unbalanced(2)
      },
      metrics: { reconciliation: (r, at) => void reported.push({ ...r, at }) },
      clock: () => NOW,
      log: recordingLog().log,
      timers: clock.timers,
    })
    recent.start()
    expect(clock.live().map((t) => t.ms)).toEqual([600_000])
    expect(asked).toEqual([])
    clock.fire()
    await Bun.sleep(0)
    expect(asked).toEqual([{ from: '2026-11-19', now: NOW }])
    expect(reported).toEqual([{ ok: false, mismatches: 2, at: NOW }])
    recent.stop()
    expect(clock.live()).toEqual([])
  })

  it('logs a reconciliation that failed and reports nothing for it', async () => {
    const reported: unknown[] = []
    const { log, lines } = recordingLog()
    const clock = manualIntervals()
    recentReconciliation({
      reconcile: async () => {
        throw new Error('ledger unreachable')
      },
      metrics: { reconciliation: (r) => void reported.push(r) },
      clock: () => NOW,
      log,
      timers: clock.timers,
    }).start()
    clock.fire()
    await Bun.sleep(0)
    expect(reported).toEqual([])
    expect(lines).toContainEqual({
      level: 'error',
      msg: 'reconciliation of the recent days failed',
      fields: { error: 'ledger unreachable' },
    })
  })
})

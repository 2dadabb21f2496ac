/** Timers the emulator owns, so that `stop()` leaves nothing scheduled behind it. */
export function timerSet() {
  const pending = new Set<ReturnType<typeof setTimeout>>()
  let stopped = false
  const later = (ms: number, fn: () => void) => {
    if (stopped) return
    const timer = setTimeout(() => {
      pending.delete(timer)
      if (!stopped) fn()
    }, ms)
    pending.add(timer)
  }
  return {
    later,
    /** Never resolves once stopped: a hung request stays hung until its connection is closed. */
    sleep: (ms: number) => new Promise<void>((resolve) => later(ms, resolve)),
    get stopped() {
      return stopped
    },
    stop() {
      stopped = true
      for (const timer of pending) clearTimeout(timer)
      pending.clear()
    },
  }
}

export type TimerSet = ReturnType<typeof timerSet>

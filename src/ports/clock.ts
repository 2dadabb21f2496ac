/** Milliseconds since the epoch; injected so tests control time (`Date.now` in production). */
export type Clock = () => number

/** Timers, injected so tests drive retries and intervals; each returns the function that cancels it. */
export interface Timers {
  after(ms: number, fn: () => void): () => void
  every(ms: number, fn: () => void): () => void
}

/** The runtime's timers. */
export const realTimers: Timers = {
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms)
    return () => clearTimeout(timer)
  },
  every: (ms, fn) => {
    const timer = setInterval(fn, ms)
    return () => clearInterval(timer)
  },
}

/** Milliseconds since the epoch; injected so tests control time (`Date.now` in production). */
export type Clock = () => number

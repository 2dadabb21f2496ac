import type { Load } from './load-client.ts'

// The rows of bench/role-cpu.ts: CPU per event per process, and what one core sustains of it.

/** CPU ms each process used over a window, in the order of its names, and the window's wall time. */
export interface CpuWindow {
  wallMs: number
  cpuMs: number[]
}

export interface CpuRow {
  setup: string
  process: string
  /** CPU ms over the run ÷ events. */
  msPerEvent: number
  /**
   * The same less what the process burns idle (its idle rate × the run's time): a lower bound, as a
   * loaded machine slows the idle polling down too (0 when the idle rate × time exceeds the run's CPU).
   */
  beyondIdle: number
  busyPercent: number
  /** CPU ms per second just before the run, with nothing to do; undefined when not measured. */
  idleMsPerSecond: number | undefined
}

/** One row per process: `run` over `events`, `idle` the window just before it with nothing to do. */
export function cpuRows(setup: string, names: string[], events: number, run: CpuWindow, idle: CpuWindow) {
  return names.map((name, i): CpuRow => {
    const cpu = run.cpuMs[i] ?? 0
    const idleRate = (idle.cpuMs[i] ?? 0) / (idle.wallMs / 1000)
    return {
      setup,
      process: name,
      msPerEvent: cpu / events,
      beyondIdle: Math.max(0, cpu - (idleRate * run.wallMs) / 1000) / events,
      busyPercent: (100 * cpu) / run.wallMs,
      idleMsPerSecond: idleRate,
    }
  })
}

/** The load client's row, from what it measured of itself over the posting. */
export function clientRow(setup: string, events: number, load: Load): CpuRow {
  const ms = load.cpuMs / events
  return {
    setup,
    process: 'load client (HTTP posts)',
    msPerEvent: ms,
    beyondIdle: ms,
    busyPercent: (100 * load.cpuMs) / load.ms,
    idleMsPerSecond: undefined,
  }
}

/** Rows for console.table, `× SDK` against the baseline's ingest CPU per event. */
export function shown(rows: CpuRow[], sdkIngestMs: number) {
  return rows.map((r) => ({
    setup: r.setup,
    process: r.process,
    'CPU ms/event': r.msPerEvent.toFixed(3),
    'beyond idle': r.beyondIdle.toFixed(3),
    'events/s per core': r.msPerEvent > 0 ? Math.round(1000 / r.msPerEvent) : '—',
    '× SDK ingest CPU': (r.msPerEvent / sdkIngestMs).toFixed(2),
    'busy % of a core': Math.round(r.busyPercent),
    'idle CPU ms/s': r.idleMsPerSecond === undefined ? '—' : Math.round(r.idleMsPerSecond),
  }))
}

/**
 * What a setup's rows add up to: paybridge's processes and every process, so N cores sustain about
 * N × 1000 ÷ total events/s (CPU only; idle polling included), and the process with the largest share.
 */
export function cpuSummary(rows: CpuRow[]): string {
  const sum = (list: CpuRow[], of: (r: CpuRow) => number) => list.reduce((s, r) => s + of(r), 0)
  const roles = rows.filter((r) => r.process.startsWith('paybridge'))
  const all = sum(rows, (r) => r.msPerEvent)
  const largest = rows.reduce((a, b) => (b.msPerEvent > a.msPerEvent ? b : a))
  return (
    `paybridge's processes ${sum(roles, (r) => r.msPerEvent).toFixed(3)} CPU ms/event ` +
    `(${sum(roles, (r) => r.beyondIdle).toFixed(3)} beyond idle), every process ${all.toFixed(3)} ` +
    `(${sum(rows, (r) => r.beyondIdle).toFixed(3)}): N cores ≈ N × ${Math.round(1000 / all)} events/s, CPU ` +
    `alone; largest: ${largest.process} (${Math.round((100 * largest.msPerEvent) / all)} %)`
  )
}

/** Requests by route between two counts, per event, for the routes that got any: "route 0.010, …". */
export function requestsPerEvent(from: Record<string, number>, to: Record<string, number>, events: number) {
  return Object.entries(to)
    .map(([route, n]) => [route, (n - (from[route] ?? 0)) / events] as const)
    .filter(([, n]) => n > 0)
    .map(([route, n]) => `${route} ${n.toFixed(3)}`)
    .join(', ')
}

import { readdirSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Counter, Gauge, type Registry } from 'prom-client'

// prom-client's default collectors assume V8: under Bun their heap-space, handle and GC series read 0
// or nonsense, so paybridge reports the process figures that hold on Bun, read at each scrape.

/** Event-loop delay is sampled every 20 ms; a scrape reports what was seen since the previous one. */
const LOOP_RESOLUTION_MS = 20

export function processMetrics(registers: Registry[]): void {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
  loop.enable()
  const startedAt = Date.now() / 1000 - process.uptime()

  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes',
    registers,
    collect() {
      this.set(process.memoryUsage.rss())
    },
  })
  new Gauge({
    name: 'process_heap_used_bytes',
    help: 'JavaScript heap in use, in bytes',
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed)
    },
  })
  let cpuSeen = { user: 0, system: 0 }
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'CPU time spent by the process, user and system, in seconds',
    labelNames: ['mode'],
    registers,
    collect() {
      const now = process.cpuUsage()
      this.inc({ mode: 'user' }, (now.user - cpuSeen.user) / 1e6)
      this.inc({ mode: 'system' }, (now.system - cpuSeen.system) / 1e6)
      cpuSeen = now
    },
  })
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch, in seconds',
    registers,
    collect() {
      this.set(Math.round(startedAt))
    },
  })
  new Gauge({
    name: 'process_open_fds',
    help: 'Open file descriptors (Linux only)',
    registers,
    collect() {
      try {
        this.set(readdirSync('/proc/self/fd').length)
      } catch {
        // No /proc (macOS): the series stays absent rather than wrong.
      }
    },
  })
  new Gauge({
    name: 'paybridge_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape (p50, p99, max): webhooks, worker and relay share this loop',
    labelNames: ['quantile'],
    registers,
    collect() {
      if (loop.count === 0) return
      this.set({ quantile: '0.5' }, loop.percentile(50) / 1e9)
      this.set({ quantile: '0.99' }, loop.percentile(99) / 1e9)
      this.set({ quantile: 'max' }, loop.max / 1e9)
      loop.reset()
    },
  })
}

import { describe, expect, it } from 'bun:test'
import { prometheusMetrics } from '../src/adapters/metrics/prometheus.ts'
import { sample } from './support/metrics-sample.ts'

describe('process metrics in /metrics', () => {
  it('reports resident memory, CPU time, open files and start time as they are on Bun', async () => {
    const metrics = prometheusMetrics({ views: undefined })
    const first = await metrics.scrape()
    const busyUntil = Date.now() + 60
    while (Date.now() < busyUntil) {}
    const second = await metrics.scrape()
    expect(sample(second, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000)
    expect(sample(second, 'process_heap_used_bytes')).toBeGreaterThan(0)
    expect(sample(second, 'process_open_fds')).toBeGreaterThan(2)
    const startedAt = sample(second, 'process_start_time_seconds') ?? 0
    expect(Math.abs(startedAt - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2)
    const cpu = (text: string) => sample(text, 'process_cpu_seconds_total{mode="user"}') ?? -1
    // 60 ms of busy loop between the scrapes: at least some of it is counted as user CPU time.
    expect(cpu(second) - cpu(first)).toBeGreaterThan(0.01)
  })

  it('reports the event-loop delay seen since the previous scrape', async () => {
    const metrics = prometheusMetrics({ views: undefined })
    await Bun.sleep(100)
    const blockedUntil = Date.now() + 200
    while (Date.now() < blockedUntil) {}
    await Bun.sleep(60)
    const blocked = await metrics.scrape()
    expect(sample(blocked, 'paybridge_event_loop_delay_seconds{quantile="max"}')).toBeGreaterThan(0.15)
    await Bun.sleep(200)
    const calm = await metrics.scrape()
    expect(sample(calm, 'paybridge_event_loop_delay_seconds{quantile="max"}')).toBeLessThan(0.15)
  })
})

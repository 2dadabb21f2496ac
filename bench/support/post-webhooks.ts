/**
 * A load client in its own process: posts every line of a `wrkRequests` file once over
 * `connections` concurrent keep-alive loops, then prints one JSON line with the count, failures,
 * elapsed time, latency percentiles and its own CPU time over the posting (`cpuMs`, user + system).
 * For runs that need an exact number of events (wrk runs for a duration).
 *
 *   bun bench/support/post-webhooks.ts <url> <file> <connections>
 */
import { readFileSync } from 'node:fs'

const [url = '', file = '', connections = '50'] = process.argv.slice(2)
const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
const latencies: number[] = []
let next = 0
let failed = 0
const started = performance.now()
const cpuAtStart = process.cpuUsage()
await Promise.all(
  Array.from({ length: Number(connections) }, async () => {
    while (next < lines.length) {
      const line = lines[next++] as string
      const tab = line.indexOf('\t')
      const t0 = performance.now()
      const res = await fetch(url, {
        method: 'POST',
        body: line.slice(tab + 1),
        headers: { 'Content-Type': 'application/json', 'Digital-Signature': line.slice(0, tab) },
      }).catch(() => undefined)
      await res?.arrayBuffer()
      latencies.push(performance.now() - t0)
      if (res?.status !== 200) failed++
    }
  }),
)
const ms = performance.now() - started
const cpu = process.cpuUsage(cpuAtStart)
latencies.sort((a, b) => a - b)
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
console.log(
  JSON.stringify({
    sent: lines.length,
    failed,
    ms,
    p50: at(0.5),
    p99: at(0.99),
    cpuMs: (cpu.user + cpu.system) / 1000,
  }),
)

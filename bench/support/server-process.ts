import { readFileSync } from 'node:fs'
import { cpuMsOf } from './cpu-meter.ts'

export interface ServerProcess {
  pid: number
  /** Milliseconds from spawn until `readyPath` answered 200. */
  readyMs: number
  rssMb(): number
  /** CPU seconds (user + system, all threads) the server processes used so far, from /proc (Linux). */
  cpuSeconds(): number
  /** Highest RSS seen by `sampleRss` since the last `resetPeak`. */
  peakRssMb(): number
  resetPeak(): void
  stop(): Promise<void>
}

/** Resident memory of a process in MB, from /proc (Linux), including its threads. */
export function rssMbOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    return kb / 1024
  } catch {
    return 0
  }
}

/**
 * Spawns `processes` copies of a server (default 1; several only make sense with `reusePort`) and
 * waits until `url + readyPath` answers 200, polled every 5 ms; with several copies, until each has
 * printed `listening` on stdout too. RSS is the sum over the copies, sampled every 100 ms for the
 * peak. `stop()` sends SIGTERM and waits for the exits.
 */
export async function startServerProcess(options: {
  cmd: string[]
  env: Record<string, string>
  url: string
  readyPath: string
  processes?: number
  timeoutMs?: number
}): Promise<ServerProcess> {
  const started = performance.now()
  const count = options.processes ?? 1
  const children = Array.from({ length: count }, () =>
    Bun.spawn(options.cmd, {
      env: { ...process.env, ...options.env },
      stdout: count > 1 ? 'pipe' : 'ignore',
      stderr: 'inherit',
    }),
  )
  const killAll = () => {
    for (const c of children) c.kill()
  }
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  const listening =
    count > 1
      ? Promise.all(children.map((c) => waitForLine(c.stdout as ReadableStream<Uint8Array>, 'listening')))
      : Promise.resolve()
  for (;;) {
    const ok = await fetch(options.url + options.readyPath, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.status === 200)
      .catch(() => false)
    if (ok) break
    if (children.some((c) => c.exitCode !== null) || Date.now() > deadline) {
      killAll()
      throw new Error(`${options.cmd.join(' ')} did not answer ${options.readyPath}`)
    }
    await Bun.sleep(5)
  }
  await listening
  const readyMs = performance.now() - started
  const rss = () => children.reduce((sum, c) => sum + rssMbOf(c.pid), 0)
  let peak = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss())
  }, 100)
  return {
    pid: children[0]?.pid ?? 0,
    readyMs,
    rssMb: rss,
    cpuSeconds: () => children.reduce((sum, c) => sum + cpuMsOf(c.pid), 0) / 1000,
    peakRssMb: () => Math.max(peak, rss()),
    resetPeak: () => {
      peak = 0
    },
    async stop() {
      clearInterval(sampler)
      for (const c of children) c.kill('SIGTERM')
      const timer = setTimeout(() => {
        for (const c of children) c.kill('SIGKILL')
      }, 15_000)
      await Promise.all(children.map((c) => c.exited))
      clearTimeout(timer)
    },
  }
}

async function waitForLine(stream: ReadableStream<Uint8Array>, text: string): Promise<void> {
  const decoder = new TextDecoder()
  let seen = ''
  for await (const chunk of stream) {
    seen += decoder.decode(chunk, { stream: true })
    if (seen.includes(text)) return
  }
  throw new Error(`exited before printing "${text}"`)
}

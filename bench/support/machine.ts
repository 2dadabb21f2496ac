import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'

/** One line naming the machine a table came from (cores, CPU model, Bun, load average at start). */
export function machineLine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(safeRead('/proc/cpuinfo'))?.[1]?.trim() ?? 'unknown CPU'
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
  return `${availableParallelism()} cores, ${cpu}, bun ${Bun.version}, load average ${load}`
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it next). */
export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = server.port ?? 0
  server.stop(true)
  return port
}

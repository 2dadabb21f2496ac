import { readFileSync } from 'node:fs'

// CPU time of other processes, read from /proc (Linux only), for benchmarks that report CPU per event.
// /proc/<pid>/stat counts clock ticks (CLK_TCK, 100 on Linux): 10 ms resolution, so a window should
// hold seconds of CPU, not milliseconds.

const TICKS_PER_SECOND = Number(Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim()) || 100

/** A process (or group of them) whose CPU time can be read at any moment. */
export interface Meter {
  name: string
  /** CPU ms (user + system, every thread) used so far. */
  cpuMs(): number
  /** Process ids to pin with `pin` (read when pinning: a server's children change). */
  pids(): number[]
}

/**
 * CPU ms (user + system, all threads) process `pid` has used; with `reaped`, plus that of the children
 * it has waited for. 0 once the process is gone.
 */
export function cpuMsOf(pid: number, reaped = false): number {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return 0
  }
  // Fields after the name (which may hold spaces): [0] is field 3 (state), so field k is [k - 3]:
  // utime 14, stime 15, cutime 16, cstime 17.
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number)
  const ticks = (f[11] ?? 0) + (f[12] ?? 0) + (reaped ? (f[13] ?? 0) + (f[14] ?? 0) : 0)
  return (ticks * 1000) / TICKS_PER_SECOND
}

/** One process. */
export function processMeter(name: string, pid: number): Meter {
  return { name, cpuMs: () => cpuMsOf(pid), pids: () => [pid] }
}

/**
 * A server that forks a process per connection (PostgreSQL): `pids()` gives the parent first, then its
 * live children. A child that exits during a window is still counted: the parent reaps it, and its
 * time moves into the parent's children's time.
 */
export function serverMeter(name: string, pids: () => number[]): Meter {
  return {
    name,
    pids,
    cpuMs() {
      const [parent = 0, ...children] = pids()
      return children.reduce((sum, pid) => sum + cpuMsOf(pid), cpuMsOf(parent, true))
    },
  }
}

/** Whether `taskset` can pin processes here (needs it on PATH and two cores or more). */
export function canPin(cores: number): boolean {
  return cores >= 2 && Bun.which('taskset') !== null
}

/** Pins every thread of each process to `cpus` (`taskset -a -cp`); threads started later inherit it. */
export function pin(pids: number[], cpus: string): void {
  for (const pid of pids) {
    const result = Bun.spawnSync(['taskset', '-a', '-cp', cpus, String(pid)], {
      stdout: 'ignore',
      stderr: 'pipe',
    })
    if (result.exitCode !== 0)
      throw new Error(`taskset -a -cp ${cpus} ${pid} failed: ${result.stderr.toString()}`)
  }
}

/** CPU ms each meter used while `work` ran, and the wall time it took. */
export async function cpuWindow(meters: Meter[], work: () => Promise<void>) {
  const before = meters.map((m) => m.cpuMs())
  const started = performance.now()
  await work()
  const wallMs = performance.now() - started
  return { wallMs, cpuMs: meters.map((m, i) => m.cpuMs() - (before[i] ?? 0)) }
}

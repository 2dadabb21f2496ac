import { Database } from 'bun:sqlite'
import { join } from 'node:path'

// The processes a chaos run owns: paybridge itself (`bun run src/main.ts`, killed with SIGKILL and
// started again), fauxqs on a fixed port (restarted mid-run), and a second writer on the ledger file.

const ROOT = join(import.meta.dir, '../..')

export { freePort } from '../support/process.ts'

export interface PaybridgeProcess {
  readonly starts: number
  running(): boolean
  /** Spawns paybridge and waits until /healthz answers (a start that fails is retried, bounded). */
  start(): Promise<void>
  /** SIGKILL: no drain, no cleanup, as a crash or an OOM kill. */
  kill(): Promise<void>
  /** SIGTERM: the graceful stop (drains the worker and relays). */
  stop(): Promise<void>
  /** SIGSTOP for `ms`, then SIGCONT: a process paused (GC, a stalled VM) past its leases. */
  freeze(ms: number): Promise<void>
  logs(): Promise<string>
}

export function paybridgeProcess(options: {
  env: Record<string, string>
  port: number
  logDir: string
  /** Roles to run (`bun run src/main.ts web relay`); all when absent. One of them must be `web`. */
  roles?: string[]
  /** Names its log files `<name>-<start>.log`; default `paybridge`. */
  name?: string
}): PaybridgeProcess {
  let child: ReturnType<typeof Bun.spawn> | undefined
  let starts = 0
  const logFiles: string[] = []
  const url = `http://127.0.0.1:${options.port}/healthz`

  function spawn() {
    const logFile = join(options.logDir, `${options.name ?? 'paybridge'}-${++starts}.log`)
    logFiles.push(logFile)
    child = Bun.spawn([process.execPath, 'run', 'src/main.ts', ...(options.roles ?? [])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdout: 'ignore',
      stderr: Bun.file(logFile),
    })
  }

  async function answering(deadline: number): Promise<boolean> {
    while (Date.now() < deadline) {
      if (child?.exitCode !== null) return false
      const ok = await fetch(url, { signal: AbortSignal.timeout(500) })
        .then((r) => r.ok)
        .catch(() => false)
      if (ok) return true
      await Bun.sleep(50)
    }
    return false
  }

  const handle: PaybridgeProcess = {
    get starts() {
      return starts
    },
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async start() {
      // A start can fail for a reason the run itself caused (SQS down, ledger busy): try again.
      for (let attempt = 1; attempt <= 5; attempt++) {
        spawn()
        if (await answering(Date.now() + 20_000)) return
        await handle.kill()
        await Bun.sleep(500 * attempt)
      }
      throw new Error(`paybridge did not start; see ${logFiles.at(-1)}`)
    },
    async kill() {
      child?.kill('SIGKILL')
      await child?.exited
    },
    async stop() {
      if (!handle.running()) return
      child?.kill('SIGTERM')
      const timer = setTimeout(() => child?.kill('SIGKILL'), 20_000)
      await child?.exited
      clearTimeout(timer)
    },
    async freeze(ms) {
      const pid = child?.pid
      if (!pid || !handle.running()) return
      process.kill(pid, 'SIGSTOP')
      await Bun.sleep(ms)
      try {
        process.kill(pid, 'SIGCONT')
      } catch {
        // Killed meanwhile.
      }
    },
    async logs() {
      return (
        await Promise.all(
          logFiles.map((f) =>
            Bun.file(f)
              .text()
              .catch(() => ''),
          ),
        )
      ).join('')
    },
  }
  return handle
}

export interface FauxqsProcess {
  readonly endpoint: string
  start(): Promise<void>
  kill(): Promise<void>
}

/**
 * fauxqs on a fixed port. With `dataDir` its queues and messages survive a restart (as Amazon SQS's
 * do through an outage); without, a restart loses every queue and message.
 */
export function fauxqsProcess(options: { port: number; dataDir: string | undefined }): FauxqsProcess {
  let child: ReturnType<typeof Bun.spawn> | undefined
  const script = join(import.meta.dir, 'fauxqs-server.ts')
  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    async start() {
      for (let attempt = 1; attempt <= 20; attempt++) {
        const args = [
          process.execPath,
          script,
          String(options.port),
          ...(options.dataDir ? [options.dataDir] : []),
        ]
        const spawned = Bun.spawn(args, { stdin: 'pipe', stdout: 'pipe', stderr: 'ignore' })
        child = spawned
        const reader = spawned.stdout.getReader()
        const timer = setTimeout(() => void reader.cancel(), 10_000)
        const first = await reader.read().catch(() => ({ value: undefined, done: true }))
        clearTimeout(timer)
        reader.releaseLock()
        if (first.value && new TextDecoder().decode(first.value).startsWith('listening')) return
        // The port may still be held by the process just killed: wait and try again.
        spawned.kill('SIGKILL')
        await spawned.exited
        await Bun.sleep(250)
      }
      throw new Error(`fauxqs did not start on port ${options.port}`)
    },
    async kill() {
      child?.kill('SIGKILL')
      await child?.exited
    },
  }
}

/**
 * Another connection takes the ledger's write lock (`BEGIN IMMEDIATE`) and holds it for `ms`, as a
 * backup tool or an operator's sqlite3 shell would. False when the lock could not be had at once.
 */
export async function holdLedgerBusy(path: string, ms: number): Promise<boolean> {
  const db = new Database(path)
  try {
    db.exec('PRAGMA busy_timeout = 1000')
    db.exec('BEGIN IMMEDIATE')
  } catch {
    db.close()
    return false
  }
  await Bun.sleep(ms)
  db.exec('ROLLBACK')
  db.close()
  return true
}

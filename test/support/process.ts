import { join } from 'node:path'
import { waitFor } from './wait.ts'

const ROOT = join(import.meta.dir, '../..')

export interface PaybridgeProcess {
  child: ReturnType<typeof Bun.spawn>
  logFile: string
  logs(): Promise<string>
  /** The HTTP port it announced (web role). */
  port(): Promise<number>
}

/**
 * Starts `bun run src/main.ts <args>` as a real process, its log (stderr) in `logFile`; `bunFlags` go
 * to bun before `run` (e.g. `--cpu-prof`).
 */
export function spawnPaybridge(
  args: string[],
  env: Record<string, string | undefined>,
  logFile: string,
  bunFlags: string[] = [],
): PaybridgeProcess {
  const child = Bun.spawn([process.execPath, ...bunFlags, 'run', 'src/main.ts', ...args], {
    cwd: ROOT,
    env,
    stdout: 'ignore',
    stderr: Bun.file(logFile),
  })
  const logs = () => Bun.file(logFile).text()
  return {
    child,
    logFile,
    logs,
    async port() {
      const match = await waitFor(`${args.join(' ') || 'paybridge'} listening`, async () =>
        (await logs()).match(/listening url=http:\/\/127\.0\.0\.1:(\d+)/),
      )
      return Number(match[1])
    },
  }
}

/** Runs a one-off CLI command to completion without blocking this process's event loop. */
export async function runCli(args: string[], env: Record<string, string | undefined>) {
  const child = Bun.spawn([process.execPath, 'run', 'src/main.ts', ...args], {
    cwd: ROOT,
    env,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ])
  return { code, stdout, stderr }
}

/** A port that was free a moment ago. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port as number
  probe.stop(true)
  return port
}

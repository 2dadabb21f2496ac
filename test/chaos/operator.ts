import { join } from 'node:path'
import type { InvariantReport } from './invariants.ts'

// What an operator runs against paybridge during a chaos run's settle phase: its own CLI, with the
// environment paybridge runs with.

const ROOT = join(import.meta.dir, '../..')

/** Runs `bun run src/main.ts <args>` with paybridge's environment; its exit code (-1: killed at 20 s). */
export async function cli(env: Record<string, string>, args: string[]): Promise<number> {
  const child = Bun.spawn([process.execPath, 'run', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'error' },
    stdout: 'ignore',
    stderr: 'ignore',
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const code = await child.exited
  clearTimeout(timer)
  return child.signalCode ? -1 : code
}

export const eventsSync = async (env: Record<string, string>) => (await cli(env, ['events', 'sync'])) === 0

/** `ledger reconcile --from` the run's day: 0 fine, 1 a mismatch, otherwise not available. */
export async function reconcile(env: Record<string, string>): Promise<InvariantReport['reconcile']> {
  const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)
  const code = await cli(env, ['ledger', 'reconcile', '--from', day])
  return code === 0 ? 'ok' : code === 1 ? 'mismatch' : 'n/a'
}

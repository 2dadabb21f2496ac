import { afterEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { tempDir } from './support/paybridge.ts'
import { freePort } from './support/process.ts'
import { waitFor } from './support/wait.ts'

// The README's run command is `npm start`. npm forwards SIGINT/SIGTERM to its child, the shell that
// runs the script: the script must `exec` paybridge so that shell is paybridge itself, or a signal to
// npm alone (a process supervisor, `kill <npm pid>`) stops nothing.

const ROOT = join(import.meta.dir, '..')
const children: ReturnType<typeof Bun.spawn>[] = []
afterEach(() => {
  // A failed test must not leave npm's children behind: kill the whole tree, leaves first.
  const tree = (pid: number): number[] => {
    const out = Bun.spawnSync(['pgrep', '-P', String(pid)])
      .stdout.toString()
      .trim()
    const kids = out ? out.split('\n').map(Number) : []
    return [...kids.flatMap(tree), pid]
  }
  for (const child of children.splice(0)) {
    for (const pid of tree(child.pid)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
})

describe('npm start', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`stops paybridge cleanly when only the npm process gets ${signal}`, async () => {
      const dir = tempDir('paybridge-npm-start-')
      const logFile = join(dir.path, 'paybridge.log')
      const npm = Bun.spawn(['npm', 'start', '--silent'], {
        cwd: ROOT,
        env: {
          PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
          HOME: process.env.HOME,
          PORT: String(freePort()),
          DATABASE_PATH: join(dir.path, 'ledger.sqlite'),
          LOG_FORMAT: 'json',
        },
        stdout: 'ignore',
        stderr: Bun.file(logFile),
      })
      children.push(npm)
      const logs = () => Bun.file(logFile).text()
      await waitFor('paybridge listening', async () => (await logs()).includes('"msg":"listening"'), 30_000)
      npm.kill(signal)
      const code = await Promise.race([npm.exited, Bun.sleep(20_000).then(() => 'still running')])
      expect(code).not.toBe('still running')
      // npm may return before its child finished draining: paybridge itself must get to "stopped".
      await waitFor('paybridge stopped', async () => (await logs()).includes('"msg":"stopped"'), 20_000)
      expect(await logs()).toContain('"msg":"stopping: draining worker and relay"')
      dir.cleanup()
    }, 60_000)
  }
})

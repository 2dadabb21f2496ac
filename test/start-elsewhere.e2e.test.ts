import { expect, it } from 'bun:test'
import { join } from 'node:path'
import { tempDir } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// A service manager (systemd's WorkingDirectory, a container's WORKDIR) may start paybridge from any
// folder: `bun run /opt/paybridge/src/main.ts`. Its start must not depend on the folder it runs in.

const MAIN = join(import.meta.dir, '..', 'src', 'main.ts')

it('starts and serves /admin when run from another folder than its own', async () => {
  const dir = tempDir('paybridge-elsewhere-')
  const logFile = join(dir.path, 'paybridge.log')
  const child = Bun.spawn([process.execPath, 'run', MAIN], {
    cwd: dir.path,
    env: {
      ...process.env,
      DATABASE_PATH: join(dir.path, 'ledger.sqlite'),
      PORT: '0',
      LOG_FORMAT: 'text',
      ADMIN_TOKEN: 'elsewhere-admin-token-0123456789',
    },
    stdout: 'ignore',
    stderr: Bun.file(logFile),
  })
  try {
    const logs = () => Bun.file(logFile).text()
    const match = await waitFor('paybridge listening', async () => {
      if (child.exitCode !== null) throw new Error(`paybridge exited ${child.exitCode}:\n${await logs()}`)
      return (await logs()).match(/listening url=http:\/\/127\.0\.0\.1:(\d+)/)
    })
    const page = await fetch(`http://127.0.0.1:${match[1]}/admin`, {
      headers: { Authorization: 'Bearer elsewhere-admin-token-0123456789' },
    })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('paybridge')
  } finally {
    child.kill('SIGINT')
    await child.exited
    dir.cleanup()
  }
})

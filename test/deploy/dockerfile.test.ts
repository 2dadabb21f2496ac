import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

// deploy/Dockerfile builds from the repository root: what it copies must exist there, and the image
// must hold what the service reads at start (both ledgers' migrations) and be installed as locked.

const ROOT = join(import.meta.dir, '../..')
const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8')
// Instructions with their continuation lines joined, comments dropped.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
const named = (keyword: string) => instructions.filter((line) => line.split(/\s+/)[0] === keyword)

/** The sources of every `COPY` from the build context (not `--from` another stage). */
function copiedPaths(): string[] {
  return named('COPY').flatMap((line) => {
    const words = line.split(/\s+/).slice(1)
    if (words.some((w) => w.startsWith('--from'))) return []
    const args = words.filter((w) => !w.startsWith('--'))
    return args.slice(0, -1)
  })
}

describe('deploy/Dockerfile', () => {
  it('copies only paths that exist in the repository', () => {
    const paths = copiedPaths()
    expect(paths.length).toBeGreaterThan(0)
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([])
  })

  it('copies both ledgers’ migrations, which the service applies at start (SQLite and PostgreSQL)', () => {
    expect(copiedPaths()).toEqual(expect.arrayContaining(['migrations', 'migrations-pg']))
  })

  it('installs dependencies from the lockfile with no fallback to an unlocked install', () => {
    const installs = named('RUN').filter((line) => /\b(bun|npm) (install|ci)\b/.test(line))
    expect(installs.length).toBe(1)
    expect(installs[0]).toMatch(/--frozen-lockfile|npm ci/)
    expect(installs[0]).not.toContain('||')
  })

  it('creates /data owned by the runtime user before declaring it a volume', () => {
    const user = named('USER').at(-1)?.split(/\s+/)[1]
    expect(user).toBeDefined()
    const chown = instructions.findIndex(
      (l) => l.startsWith('RUN') && l.includes(`chown ${user}`) && l.includes('/data'),
    )
    const volume = instructions.findIndex((l) => l.startsWith('VOLUME') && l.includes('/data'))
    expect(chown).toBeGreaterThanOrEqual(0)
    // Changes to a path after VOLUME declares it are discarded.
    expect(chown).toBeLessThan(volume)
  })

  it('has a HEALTHCHECK on /readyz', () => {
    const checks = named('HEALTHCHECK')
    expect(checks.length).toBe(1)
    expect(checks[0]).toContain('/readyz')
  })
})

describe('package.json', () => {
  it('pins starkbank exactly, at the version the lockfile installs (paybridge reaches into its internals)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'))
    const locked = lock.packages['node_modules/starkbank'].version
    expect(pkg.dependencies.starkbank).toBe(locked)
    expect(lock.packages[''].dependencies.starkbank).toBe(locked)
  })
})

import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'
import { freePort } from './process.ts'

export interface Postgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the maintenance database. */
  url: string
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>
  /** Stops the server (fast shutdown: connections are cut), keeping its data for `restart()`. */
  halt(): Promise<void>
  /** Starts a halted server again on the same port and data. */
  restart(): Promise<void>
  /** SIGSTOP to the server and all its backends for `ms`, then SIGCONT: a frozen, unresponsive host. */
  freeze(ms: number): Promise<void>
  /** The postmaster's pid, then its children's (backends and helpers), as running now. */
  pids(): number[]
  stop(): Promise<void>
}

const INSTALL_HINT =
  'PostgreSQL server binaries (initdb, pg_ctl, postgres) are needed for the PostgreSQL tests: ' +
  'install them with `apt-get install -y postgresql` (Debian/Ubuntu), or set PG_BIN to their folder.'

/** The folder holding initdb and pg_ctl: PG_BIN, Debian's /usr/lib/postgresql/<newest>/bin, or PATH. */
export function postgresBin(): string {
  const candidates: string[] = []
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN)
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
    candidates.push(...versions.map((v) => join(debian, v, 'bin')))
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(dir)
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')))
  if (!found) throw new Error(INSTALL_HINT)
  return found
}

/**
 * Starts a throwaway PostgreSQL server: `initdb` into a temp folder (trust auth), then `pg_ctl start`
 * on a free port bound to 127.0.0.1 with its unix socket in the same folder. PostgreSQL refuses to
 * run as root, so as root the folder goes to the `postgres` user and the commands run as it.
 * Durability is off (fsync, synchronous_commit): the server lives for one test file. `settings` are
 * more `-c name=value` server settings (a bench loads pg_stat_statements with them).
 */
export async function startPostgres(options: { settings?: Record<string, string> } = {}): Promise<Postgres> {
  const bin = postgresBin()
  const asRoot = userInfo().uid === 0
  // As root the server runs as `postgres`, which must reach the folder: /tmp, whatever TMPDIR says.
  const dir = mkdtempSync(join(asRoot ? '/tmp' : tmpdir(), 'paybridge-pg-'))
  const data = join(dir, 'data')
  if (asRoot) chownSync(dir, postgresUid(), postgresGid())
  const run = async (args: string[]) => {
    const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args
    const child = Bun.spawn(cmd, { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
    const [code, out, err] = await Promise.all([
      child.exited,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ])
    if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}:\n${out}${err}`)
  }
  const port = freePort()
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c max_connections=300',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    ...Object.entries(options.settings ?? {}).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ')
  const startArgs = (options: string) => [
    join(bin, 'pg_ctl'),
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    '-o',
    options,
    'start',
  ]
  const stopNow = () => {
    const args = [join(bin, 'pg_ctl'), '-D', data, 'stop', '-m', 'immediate']
    Bun.spawnSync(asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args, {
      stdout: 'ignore',
      stderr: 'ignore',
    })
    rmSync(dir, { recursive: true, force: true })
  }
  // A test run that dies still takes its server down.
  process.once('exit', stopNow)
  try {
    await run([
      join(bin, 'initdb'),
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
      '--locale=C',
    ])
    await run(startArgs(settings))
  } catch (err) {
    stopNow()
    process.off('exit', stopNow)
    throw err
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  return {
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`)
      const admin = new SQL({ url, max: 1 })
      try {
        await admin.unsafe(`create database ${name}`)
      } finally {
        await admin.close()
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    halt: () => run([join(bin, 'pg_ctl'), '-D', data, 'stop', '-m', 'fast', '-w']),
    restart: () => run(startArgs(settings)),
    async freeze(ms) {
      const pids = serverPids(join(data, 'postmaster.pid'))
      for (const pid of pids) signal(pid, 'SIGSTOP')
      try {
        await Bun.sleep(ms)
      } finally {
        for (const pid of pids) signal(pid, 'SIGCONT')
      }
    },
    pids: () => serverPids(join(data, 'postmaster.pid')),
    async stop() {
      process.off('exit', stopNow)
      await run([join(bin, 'pg_ctl'), '-D', data, 'stop', '-m', 'fast', '-w']).catch(() => undefined)
      stopNow()
    },
  }
}

function postgresUid(): number {
  return idOf('-u')
}
function postgresGid(): number {
  return idOf('-g')
}
function idOf(flag: '-u' | '-g'): number {
  const result = Bun.spawnSync(['id', flag, 'postgres'])
  const id = Number(result.stdout.toString().trim())
  if (result.exitCode !== 0 || !Number.isInteger(id)) {
    throw new Error(
      `running as root, the PostgreSQL tests need the "postgres" user to run the server as. ${INSTALL_HINT}`,
    )
  }
  return id
}

/** The postmaster (first line of postmaster.pid) and its children, read from /proc. */
function serverPids(pidFile: string): number[] {
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // Field 4 of /proc/<pid>/stat is the parent pid; the name (field 2) may hold spaces.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster
      } catch {
        return false
      }
    })
    .map(Number)
  return [postmaster, ...children]
}

function signal(pid: number, name: 'SIGSTOP' | 'SIGCONT') {
  try {
    process.kill(pid, name)
  } catch {
    // The process ended meanwhile.
  }
}

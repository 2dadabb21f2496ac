import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './support/paybridge.ts'
import { freePort, runCli } from './support/process.ts'

// An expected start-up failure is one line naming the variable and the fix, exit 2, no stack trace.

const env = (vars: Record<string, string>) => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LOG_FORMAT: 'json',
  ...vars,
})

const named = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('paybridge: '))
const stackLines = (stderr: string) => stderr.split('\n').filter((l) => /^\s+at /.test(l))

describe('start-up failures', () => {
  it('names DATABASE_PATH when the ledger file cannot be created (a folder under /proc)', async () => {
    const run = await runCli(
      [],
      env({ DATABASE_PATH: '/proc/paybridge-nowhere/ledger.db', PORT: String(freePort()) }),
    )
    expect(run.code).toBe(2)
    expect(named(run.stderr)).toEqual([
      expect.stringContaining(
        'paybridge: DATABASE_PATH: cannot open the ledger file /proc/paybridge-nowhere/ledger.db',
      ),
    ])
    expect(named(run.stderr)[0]).toContain('point DATABASE_PATH at a file in a folder paybridge may write')
    expect(stackLines(run.stderr)).toEqual([])
  })

  it('names DATABASE_PATH when another process holds the ledger file locked past the start-up wait', async () => {
    const dir = tempDir()
    const path = join(dir.path, 'ledger.db')
    // A tool with the file open in exclusive locking mode, in a write transaction: paybridge's start
    // waits out its 5 s busy timeout and must then say what is wrong, not print a stack.
    const holder = new Database(path, { create: true })
    holder.exec('PRAGMA locking_mode = EXCLUSIVE')
    holder.exec('BEGIN EXCLUSIVE')
    holder.exec('CREATE TABLE held (x)')
    try {
      const run = await runCli([], env({ DATABASE_PATH: path, PORT: String(freePort()) }))
      expect(run.code).toBe(2)
      expect(named(run.stderr)).toEqual([
        expect.stringContaining(
          `paybridge: DATABASE_PATH: the ledger file ${path} is locked by another process`,
        ),
      ])
      expect(named(run.stderr)[0]).toContain('stop what holds it')
      expect(stackLines(run.stderr)).toEqual([])
    } finally {
      holder.exec('ROLLBACK')
      holder.close()
      dir.cleanup()
    }
  }, 30_000)

  it('names DATABASE_PATH when a ledger command cannot open the file (a folder, not a file)', async () => {
    const dir = tempDir()
    try {
      const run = await runCli(['ledger', 'runs'], env({ DATABASE_PATH: dir.path }))
      expect(run.code).toBe(2)
      expect(named(run.stderr)[0]).toContain(
        `paybridge: DATABASE_PATH: cannot open the ledger file ${dir.path}`,
      )
      expect(stackLines(run.stderr)).toEqual([])
    } finally {
      dir.cleanup()
    }
  })

  it('refuses to read a ledger file that is not there instead of creating an empty one', async () => {
    const dir = tempDir()
    try {
      const path = join(dir.path, 'typo.db')
      for (const args of [
        ['ledger', 'transfers'],
        ['ledger', 'trace', 'evt_1'],
        ['forwards', 'replay', '--dead'],
      ]) {
        const run = await runCli(args, env({ DATABASE_PATH: path }))
        expect(run.code).toBe(2)
        expect(named(run.stderr)).toEqual([
          `paybridge: DATABASE_PATH: no ledger file at ${path}; run the command where paybridge runs, with its DATABASE_PATH (or DATABASE_URL for PostgreSQL)`,
        ])
        expect(existsSync(path)).toBe(false)
      }
    } finally {
      dir.cleanup()
    }
  })

  it('names PORT when the port is taken', async () => {
    const dir = tempDir()
    const holder = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('taken') })
    try {
      const run = await runCli(
        [],
        env({ DATABASE_PATH: join(dir.path, 'ledger.db'), PORT: String(holder.port) }),
      )
      expect(run.code).toBe(2)
      expect(named(run.stderr)).toEqual([
        `paybridge: PORT: port ${holder.port} on 127.0.0.1 is in use (another paybridge?); stop what holds it, or set PORT to a free port`,
      ])
      expect(stackLines(run.stderr)).toEqual([])
    } finally {
      holder.stop(true)
      dir.cleanup()
    }
  })
})

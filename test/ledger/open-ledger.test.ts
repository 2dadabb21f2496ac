import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
import { StartupFailure } from '../../src/adapters/startup-failure.ts'
import { tempDir } from '../support/paybridge.ts'

// Processes started together (two web processes sharing a port, a worker beside them) open the
// same new ledger file at once: the one that comes second must wait for the lock, not fail.
describe('opening the SQLite ledger', () => {
  it('waits for a lock another process holds on the file instead of failing with SQLITE_BUSY', async () => {
    const dir = tempDir('paybridge-open-')
    const path = join(dir.path, 'ledger.sqlite')
    const holder = Bun.spawn(
      [
        process.execPath,
        '-e',
        `const { Database } = require('bun:sqlite')
         const db = new Database(${JSON.stringify(path)}, { create: true })
         db.exec('BEGIN EXCLUSIVE'); db.exec('CREATE TABLE held (x)')
         console.log('locked')
         await Bun.sleep(500)
         db.exec('COMMIT'); db.close()`,
      ],
      { stdout: 'pipe', stderr: 'inherit' },
    )
    try {
      const reader = holder.stdout.getReader()
      const { value } = await reader.read()
      expect(new TextDecoder().decode(value)).toContain('locked')
      const ledger = openLedger(path)
      try {
        const mode = ledger.sqlite.query('PRAGMA journal_mode').get() as { journal_mode: string }
        expect(mode.journal_mode).toBe('wal')
        const reader = new Database(path, { readonly: true })
        expect(reader.query('SELECT count(*) AS n FROM held').get()).toEqual({ n: 0 })
        reader.close()
      } finally {
        ledger.close()
      }
      expect(await holder.exited).toBe(0)
    } finally {
      holder.kill()
      dir.cleanup()
    }
  })

  // A 200 is durable because the WAL is fdatasynced (wal-sync.ts): a ledger SQLite left in another
  // journal mode would answer 200 for commits that are not on disk. SQLite does not fail the pragma
  // then, it answers the mode it kept. On Linux the one path bun:sqlite reaches that way is '' (its
  // private temporary database, which answers 'memory'); a VFS without shared memory (macOS on a
  // network mount) answers 'delete' the same way.
  it('refuses a ledger SQLite keeps out of WAL mode, naming the path, the mode it got and the fix', () => {
    let failure: unknown
    try {
      openLedger('').close()
    } catch (err) {
      failure = err
    }
    expect(failure).toBeInstanceOf(StartupFailure)
    const message = (failure as Error).message
    expect(message).toStartWith('DATABASE_PATH: ')
    expect(message).toContain("the ledger file ''")
    expect(message).toContain("journal mode 'memory', not WAL")
    expect(message).toContain('point DATABASE_PATH at a file on a local filesystem')
    expect(message).not.toContain('\n')
  })

  it("keeps ':memory:' (nothing to sync: a throwaway ledger for tests) and a file in WAL mode", () => {
    const memory = openLedger(':memory:')
    try {
      expect(memory.sqlite.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'memory' })
    } finally {
      memory.close()
    }
    const dir = tempDir('paybridge-open-')
    try {
      const ledger = openLedger(join(dir.path, 'ledger.sqlite'))
      expect(ledger.sqlite.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
      ledger.close()
    } finally {
      dir.cleanup()
    }
  })
})

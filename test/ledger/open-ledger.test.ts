import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
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
})

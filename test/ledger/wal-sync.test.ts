import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { walSync } from '../../src/adapters/ledger/sqlite/wal-sync.ts'
import { tempDir } from '../support/paybridge.ts'

describe('WAL sync', () => {
  it('gives callers that arrive while a sync is in flight one later sync, which covers their commits', async () => {
    const dir = tempDir('paybridge-wal-')
    const path = join(dir.path, 'ledger.sqlite')
    const db = new Database(path, { create: true })
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('CREATE TABLE t (x)')
    const wal = walSync(path)
    try {
      const first = wal.sync()
      db.exec('INSERT INTO t VALUES (1)')
      const later = [wal.sync(), wal.sync(), wal.sync()]
      await Promise.all([first, ...later])
      // One for the first caller, one started after it finished for the three that came meanwhile.
      expect(wal.syncs()).toBe(2)
      await wal.sync()
      expect(wal.syncs()).toBe(3)
    } finally {
      wal.close()
      db.close()
      dir.cleanup()
    }
  })

  it('rejects with the WAL file it could not sync when there is none', async () => {
    const dir = tempDir('paybridge-wal-')
    const path = join(dir.path, 'never-opened.sqlite')
    const wal = walSync(path)
    try {
      await expect(wal.sync()).rejects.toThrow(`${path}-wal`)
    } finally {
      wal.close()
      dir.cleanup()
    }
  })

  it('is a no-op for an in-memory ledger', async () => {
    const wal = walSync(':memory:')
    await wal.sync()
    expect(wal.syncs()).toBe(0)
  })
})

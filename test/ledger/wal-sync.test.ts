import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { fdatasync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
import { ledgerWritable } from '../../src/adapters/ledger/sqlite/ledger-health.ts'
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

  it('syncs the WAL beside the real file when the ledger is opened through a symlink', async () => {
    // SQLite follows a symlinked database and keeps its -wal beside the file the link points to.
    const dir = tempDir('paybridge-wal-')
    const real = join(dir.path, 'real.sqlite')
    const link = join(dir.path, 'link.sqlite')
    new Database(real, { create: true }).close()
    symlinkSync(real, link)
    const ledger = openLedger(link)
    try {
      ledger.sqlite.run("INSERT INTO queue_dedup (queue, dedup_id, expires_at) VALUES ('q', 'd', 0)")
      await ledger.wal.sync()
      expect(ledger.wal.syncs()).toBe(1)
    } finally {
      ledger.close()
      dir.cleanup()
    }
  })

  it('syncs the folder once when it first opens the WAL file, so a new -wal file is found after a power loss', async () => {
    const dir = tempDir('paybridge-wal-')
    const path = join(dir.path, 'ledger.sqlite')
    const db = new Database(path, { create: true })
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('CREATE TABLE t (x)')
    const folders: string[] = []
    const wal = walSync(path, { fdatasync, syncFolder: (folder) => folders.push(folder) })
    try {
      await wal.sync()
      await wal.sync()
      expect(folders).toEqual([dir.path])
    } finally {
      wal.close()
      db.close()
      dir.cleanup()
    }
  })

  it('refuses every later sync after one failed, and the ledger then says it is not writable', async () => {
    // After a failed fsync Linux may drop the unwritten pages and report the error only once: a
    // later fdatasync that succeeds does not prove the earlier commits are on disk.
    const dir = tempDir('paybridge-wal-')
    const ledger = openLedger(join(dir.path, 'ledger.sqlite'))
    let calls = 0
    const wal = walSync(ledger.path, {
      fdatasync: (fd, done) => {
        calls += 1
        if (calls === 1) done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
        else fdatasync(fd, done)
      },
      syncFolder: () => {},
    })
    const withFailingWal = { ...ledger, wal }
    try {
      ledger.sqlite.run("INSERT INTO queue_dedup (queue, dedup_id, expires_at) VALUES ('q', 'd', 0)")
      await expect(wal.sync()).rejects.toThrow('EIO')
      await expect(wal.sync()).rejects.toThrow('restart paybridge')
      expect(calls).toBe(1)
      expect(wal.failure()).toContain('EIO')
      expect(ledgerWritable(withFailingWal)()).toContain('EIO')
      expect(ledgerWritable(ledger)()).toBe(true)
    } finally {
      wal.close()
      ledger.close()
      dir.cleanup()
    }
  })
})

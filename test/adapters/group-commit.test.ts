import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { groupCommit } from '../../src/adapters/embedded-queue/group-commit.ts'
import { sqliteQueue } from '../../src/adapters/embedded-queue/queue.ts'
import { openLedger } from '../../src/adapters/ledger/sqlite/database.ts'
import { tempDir } from '../support/paybridge.ts'

describe('group commit', () => {
  it('commits concurrent sends together and resolves each only after the commit', async () => {
    const commits: number[][] = []
    const group = groupCommit((items: number[]) => void commits.push([...items]))
    let resolved = 0
    const sends = [1, 2, 3].map((n) => group.add([n]).then(() => resolved++))
    expect(resolved).toBe(0)
    await Promise.all(sends)
    expect(commits).toEqual([[1, 2, 3]])
    await group.add([4])
    expect(commits).toEqual([[1, 2, 3], [4]])
  })

  it('fails every caller of a batch whose commit throws, and commits the next batch normally', async () => {
    let fail = true
    const group = groupCommit((_: string[]) => {
      if (fail) throw new Error('disk I/O error')
    })
    const results = await Promise.allSettled([group.add(['a']), group.add(['b'])])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    await expect(group.add(['c'])).resolves.toBeUndefined()
  })

  it('embedded queue: 200 concurrent sends are each durable when they resolve, dedup still applies', async () => {
    const ledger = openLedger(':memory:')
    const queue = sqliteQueue({ ledger, name: 'grouped' })
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => queue.send([{ body: `m${i % 150}`, dedupId: `e${i % 150}` }])),
    )
    const count = ledger.sqlite.query('SELECT count(*) AS n FROM queue_messages').get() as { n: number }
    expect(count.n).toBe(150)
    ledger.close()
  })

  it('embedded queue commits its sends on a synchronous=FULL connection; other ledger writes stay NORMAL', async () => {
    const dir = tempDir('paybridge-durable-')
    const ledger = openLedger(join(dir.path, 'ledger.sqlite'))
    try {
      const pragma = (db: Database) =>
        (db.query('PRAGMA synchronous').get() as { synchronous: number }).synchronous
      // 2 = FULL (the WAL is synced at each commit), 1 = NORMAL.
      expect(pragma(ledger.queueWriter)).toBe(2)
      expect(pragma(ledger.sqlite)).toBe(1)
      const changes = () => (ledger.queueWriter.query('SELECT total_changes() AS n').get() as { n: number }).n
      const before = changes()
      await sqliteQueue({ ledger, name: 'durable' }).send([{ body: 'acked-webhook' }])
      expect(changes()).toBe(before + 1)
    } finally {
      ledger.close()
      dir.cleanup()
    }
  })

  it('embedded queue on a file: each of 100 concurrent senders sees its message committed when it resolves', async () => {
    const dir = tempDir('paybridge-durable-')
    const path = join(dir.path, 'ledger.sqlite')
    const ledger = openLedger(path)
    const reader = new Database(path, { readonly: true })
    try {
      const queue = sqliteQueue({ ledger, name: 'grouped' })
      const seen = reader.query('SELECT count(*) AS n FROM queue_messages WHERE body = ?')
      const visibleAtResolve = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          queue.send([{ body: `m${i}` }]).then(() => (seen.get(`m${i}`) as { n: number }).n),
        ),
      )
      expect(visibleAtResolve).toEqual(Array.from({ length: 100 }, () => 1))
    } finally {
      reader.close()
      ledger.close()
      dir.cleanup()
    }
  })
})

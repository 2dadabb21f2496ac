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

  it('answers a batch only after its sync, and batches what arrives meanwhile for the next commit', async () => {
    const commits: string[][] = []
    const syncs: (() => void)[] = []
    const group = groupCommit((items: string[]) => void commits.push([...items]), {
      sync: () => new Promise<void>((resolve) => syncs.push(resolve)),
    })
    const settled: string[] = []
    const first = group.add(['a']).then(() => settled.push('a'))
    await Bun.sleep(1)
    expect(commits).toEqual([['a']])
    const later = [group.add(['b']), group.add(['c'])].map((p, i) => p.then(() => settled.push(`${'bc'[i]}`)))
    await Bun.sleep(1)
    // 'a' is committed but its sync has not finished: nobody is answered, 'b' and 'c' wait.
    expect(settled).toEqual([])
    expect(commits).toEqual([['a']])
    syncs.shift()?.()
    await first
    await Bun.sleep(1)
    expect(settled).toEqual(['a'])
    expect(commits).toEqual([['a'], ['b', 'c']])
    syncs.shift()?.()
    await Promise.all(later)
    expect(settled).toEqual(['a', 'b', 'c'])
  })

  it('fails the callers of a batch whose sync fails, and syncs the next batch normally', async () => {
    let fail = true
    const group = groupCommit((_: string[]) => {}, {
      sync: async () => {
        if (fail) throw new Error('fdatasync: EIO')
      },
    })
    const results = await Promise.allSettled([group.add(['a']), group.add(['b'])])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    await expect(group.add(['c'])).resolves.toBeUndefined()
  })

  it('embedded queue answers a send only after the WAL holding its commit was synced; ledger writes stay NORMAL', async () => {
    const dir = tempDir('paybridge-durable-')
    const path = join(dir.path, 'ledger.sqlite')
    const ledger = openLedger(path)
    const reader = new Database(path, { readonly: true })
    try {
      const pragma = (db: Database) =>
        (db.query('PRAGMA synchronous').get() as { synchronous: number }).synchronous
      // 1 = NORMAL: no commit blocks the event loop on an fsync; the send's sync is done apart.
      expect(pragma(ledger.sqlite)).toBe(1)
      const seen = () =>
        (
          reader.query("SELECT count(*) AS n FROM queue_messages WHERE body = 'acked-webhook'").get() as {
            n: number
          }
        ).n
      const steps: string[] = []
      const wal = {
        ...ledger.wal,
        async sync() {
          steps.push(`sync requested, message committed: ${seen()}`)
          await ledger.wal.sync()
          steps.push('synced')
        },
      }
      const syncsBefore = ledger.wal.syncs()
      await sqliteQueue({ ledger: { ...ledger, wal }, name: 'durable' })
        .send([{ body: 'acked-webhook' }])
        .then(() => steps.push('send resolved'))
      expect(steps).toEqual(['sync requested, message committed: 1', 'synced', 'send resolved'])
      // The real fdatasync of the -wal file ran.
      expect(ledger.wal.syncs()).toBe(syncsBefore + 1)
    } finally {
      reader.close()
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

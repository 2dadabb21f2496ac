import { describe, expect, it } from 'bun:test'
import { openLedger } from '../../src/adapters/sqlite/database.ts'
import { groupCommit } from '../../src/adapters/sqlite/group-commit.ts'
import { sqliteQueue } from '../../src/adapters/sqlite/queue.ts'

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
})

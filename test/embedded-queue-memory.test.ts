import { heapStats } from 'bun:jsc'
import { expect, it } from 'bun:test'
import { join } from 'node:path'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { tempDir } from './support/paybridge.ts'

// The embedded queue wakes long polls on the process's other threads through a BroadcastChannel. A
// ledger opened and closed again (a CLI command, a test, a restart of the roles) must leave nothing
// of its connection behind for it.

const connections = () => {
  Bun.gc(true)
  Bun.gc(true)
  return heapStats().objectTypeCounts.SQLDatabase ?? 0
}

it('keeps no connection of a closed ledger alive for its queue', async () => {
  const dir = tempDir('paybridge-queue-memory-')
  try {
    const cycle = async (i: number) => {
      const ledger = openLedger(join(dir.path, `ledger-${i}.sqlite`))
      const queue = sqliteQueue({ ledger, name: 'stark-events' })
      await queue.send([{ body: '{}', dedupId: `m-${i}` }])
      const [message] = await queue.receive({ max: 1, waitMs: 0 })
      if (message) await queue.ack([message])
      ledger.close()
    }
    await cycle(-1)
    const before = connections()
    for (let i = 0; i < 30; i++) await cycle(i)
    expect(connections() - before).toBeLessThan(10)
  } finally {
    dir.cleanup()
  }
})

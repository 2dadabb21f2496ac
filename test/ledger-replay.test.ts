import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'bun:test'
import { consoleLog } from '../src/adapters/console-log.ts'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import type { Ledger } from '../src/adapters/ledger/sqlite/database.ts'
import { replayDeadItem } from '../src/app/replay-dead-item.ts'
import { transferIdFor } from '../src/domain/transfer.ts'
import type { OutgoingMessage, Queue } from '../src/ports/queue.ts'
import { NOW, type PlantedStores, plantLedgerOn } from './support/ledger-fixture.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

// The admin replay of dead items, through the Store on either ledger. On SQLite the dead letter goes
// back on the embedded queue; a PostgreSQL ledger has its queues on SQS, so there the test's queue
// keeps what was sent (the replay's contract with the Queue port is the send).

/** A queue that keeps what it was sent: stands in for SQS beside a PostgreSQL ledger. */
function keepingQueue(name: string): Queue & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = []
  const none = async () => undefined
  return {
    name,
    kind: 'sqs',
    sent,
    send: async (messages) => void sent.push(...messages),
    receive: async () => [],
    ack: async () => [],
    release: none,
    handBack: none,
    extend: none,
    ping: none,
  }
}

describe.each(['sqlite', 'postgres'] as const)('replaying dead items on %s', (engine) => {
  let server: Postgres | undefined
  let planted: PlantedStores
  beforeAll(async () => {
    if (engine === 'postgres') server = await startPostgres()
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
  })
  beforeEach(async () => {
    planted = await plantLedgerOn(engine, server)
  })
  afterEach(() => planted.cleanup())

  function replayer() {
    const sqlite = planted.stores.sqlite as Ledger | undefined
    const queue = sqlite
      ? sqliteQueue({ ledger: sqlite, name: 'stark-events', clock: () => NOW })
      : keepingQueue('stark-events')
    const replay = replayDeadItem({
      store: planted.stores.store,
      forwards: planted.stores.forwards,
      queues: { 'stark-events': queue },
      clock: () => NOW,
      log: consoleLog({ level: 'error' }),
    })
    const bodies = async () =>
      'sent' in queue
        ? (queue.sent as OutgoingMessage[]).map((m) => m.body)
        : (await queue.receive({ max: 10, waitMs: 0 })).map((m) => m.body)
    return { replay, bodies }
  }

  const row = async (sql: string, ...args: string[]) => (await planted.exec(sql, args))[0] ?? null

  it('puts a dead transfer back in the outbox, where the relay claims it with a fresh retry count', async () => {
    const id = transferIdFor('sf')
    expect(await replayer().replay('transfer', id)).toEqual({
      ok: true,
      message: `transfer ${id} is back in the outbox`,
    })
    expect(await row('SELECT status, reason FROM transfers WHERE id = ?', id)).toEqual({
      status: 'pending',
      reason: null,
    })
    const { claimed } = await planted.stores.store.claimTransfers(10, NOW, 60_000)
    // The claim number goes on (it fences any relay still holding the old claim); the retries restart.
    expect(claimed.map((c) => [c.transferId, c.attempt, c.tries])).toEqual([[id, 2, 1]])
    // Only dead ones: a second replay (now pending) changes nothing.
    expect((await replayer().replay('transfer', id)).ok).toBe(false)
  })

  it('puts every dead transfer back at once (the replay-all action of the page), and says when none is dead', async () => {
    const id = transferIdFor('sf')
    expect(await replayer().replay('transfers', 'dead')).toEqual({
      ok: true,
      message: '1 dead transfer(s) back in the outbox',
    })
    expect(await row('SELECT status FROM transfers WHERE id = ?', id)).toEqual({
      status: 'pending',
    })
    expect(await replayer().replay('transfers', 'dead')).toEqual({ ok: false, message: 'no dead transfers' })
    expect((await replayer().replay('transfers', 'all')).ok).toBe(false)
  })

  it('puts a dead forward back in the outbox', async () => {
    expect((await replayer().replay('forward', 'evt_bad')).ok).toBe(true)
    expect(await row("SELECT status FROM forwards WHERE id = 'evt_bad'")).toEqual({
      status: 'pending',
    })
    // The claim count goes on (a relay holding an old claim cannot write); the retry count restarts.
    expect(await row("SELECT status, attempts, free_attempts FROM outbox WHERE ref_id = 'evt_bad'")).toEqual({
      status: 'pending',
      attempts: 1,
      free_attempts: 1,
    })
    expect((await replayer().replay('forward', 'evt_ok')).ok).toBe(false)
  })

  it('sends a dead letter again on its queue, then removes it', async () => {
    const { replay, bodies } = replayer()
    const id = String(
      ((await row("SELECT id FROM dead_letters WHERE message_id = 'msg-poison'")) as { id: number }).id,
    )
    expect(await replay('dead-letter', id)).toEqual({
      ok: true,
      message: 'message msg-poison is back on stark-events',
    })
    expect(await bodies()).toContain('{"event": oops')
    expect(Number((await row('SELECT count(*) AS n FROM dead_letters'))?.n)).toBe(0)
  })

  it('says why when it cannot replay', async () => {
    const { replay } = replayer()
    expect(await replay('dead-letter', '999')).toEqual({ ok: false, message: 'no dead letter 999' })
    await planted.exec(
      "INSERT INTO dead_letters (queue, message_id, body, reason, receive_count, created_at) VALUES ('elsewhere', 'm', 'b', 'r', 1, 0)",
    )
    const id = String(
      ((await row("SELECT id FROM dead_letters WHERE queue = 'elsewhere'")) as { id: number }).id,
    )
    expect((await replay('dead-letter', id)).message).toBe('queue elsewhere is not served by this paybridge')
    expect((await replay('run', 'run-1')).ok).toBe(false)
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { consoleLog } from '../src/adapters/console-log.ts'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import { ledgerReplay } from '../src/adapters/ledger/sqlite/ledger-replay.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { transferIdFor } from '../src/domain/transfer.ts'
import { NOW, type PlantedLedger, plantLedger } from './support/ledger-fixture.ts'

let planted: PlantedLedger
beforeEach(async () => {
  planted = await plantLedger()
})
afterEach(() => planted.cleanup())

function replayer() {
  const queue = sqliteQueue({ ledger: planted.ledger, name: 'stark-events', clock: () => NOW })
  const replay = ledgerReplay({
    ledger: planted.ledger,
    store: sqliteStore(planted.ledger),
    queues: { 'stark-events': queue },
    clock: () => NOW,
    log: consoleLog({ level: 'error' }),
  })
  return { replay, queue }
}

const row = (ledger: PlantedLedger['ledger'], sql: string, ...args: string[]) =>
  ledger.sqlite.query(sql).get(...args) as Record<string, unknown> | null

describe('replaying dead items', () => {
  it('puts a dead transfer back in the outbox, where the relay claims it with a fresh retry count', async () => {
    const id = transferIdFor('sf')
    expect(await replayer().replay('transfer', id)).toEqual({
      ok: true,
      message: `transfer ${id} is back in the outbox`,
    })
    expect(row(planted.ledger, 'SELECT status, reason FROM transfers WHERE id = ?', id)).toEqual({
      status: 'pending',
      reason: null,
    })
    const { claimed } = await sqliteStore(planted.ledger).claimTransfers(10, NOW, 60_000)
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
    expect(row(planted.ledger, 'SELECT status FROM transfers WHERE id = ?', id)).toEqual({
      status: 'pending',
    })
    expect(await replayer().replay('transfers', 'dead')).toEqual({ ok: false, message: 'no dead transfers' })
    expect((await replayer().replay('transfers', 'all')).ok).toBe(false)
  })

  it('puts a dead forward back in the outbox', async () => {
    expect((await replayer().replay('forward', 'evt_bad')).ok).toBe(true)
    expect(row(planted.ledger, "SELECT status FROM forwards WHERE id = 'evt_bad'")).toEqual({
      status: 'pending',
    })
    // The claim count goes on (a relay holding an old claim cannot write); the retry count restarts.
    expect(
      row(planted.ledger, "SELECT status, attempts, free_attempts FROM outbox WHERE ref_id = 'evt_bad'"),
    ).toEqual({ status: 'pending', attempts: 1, free_attempts: 1 })
    expect((await replayer().replay('forward', 'evt_ok')).ok).toBe(false)
  })

  it('sends a dead letter again on its queue, then removes it', async () => {
    const { replay, queue } = replayer()
    const id = String(
      (row(planted.ledger, "SELECT id FROM dead_letters WHERE message_id = 'msg-poison'") as { id: number })
        .id,
    )
    expect(await replay('dead-letter', id)).toEqual({
      ok: true,
      message: 'message msg-poison is back on stark-events',
    })
    const bodies = (await queue.receive({ max: 10, waitMs: 0 })).map((m) => m.body)
    expect(bodies).toContain('{"event": oops')
    expect(row(planted.ledger, 'SELECT count(*) AS n FROM dead_letters')).toEqual({ n: 0 })
  })

  it('says why when it cannot replay', async () => {
    const { replay } = replayer()
    expect(await replay('dead-letter', '999')).toEqual({ ok: false, message: 'no dead letter 999' })
    planted.ledger.sqlite.run(
      "INSERT INTO dead_letters (queue, message_id, body, reason, receive_count, created_at) VALUES ('elsewhere', 'm', 'b', 'r', 1, 0)",
    )
    const id = String(
      (row(planted.ledger, "SELECT id FROM dead_letters WHERE queue = 'elsewhere'") as { id: number }).id,
    )
    expect((await replay('dead-letter', id)).message).toBe('queue elsewhere is not served by this paybridge')
    expect((await replay('run', 'run-1')).ok).toBe(false)
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { consoleLog } from '../src/adapters/console-log.ts'
import { openPgLedger, type PgLedger } from '../src/adapters/ledger/postgres/database.ts'
import { postgresStore } from '../src/adapters/ledger/postgres/store.ts'
import { type Ledger, openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { sqsDeadLetterDrain } from '../src/adapters/sqs/dead-letter-drain.ts'
import { deadLetterQueueName, ensureQueue } from '../src/adapters/sqs/provision.ts'
import { sqsQueue } from '../src/adapters/sqs/queue.ts'
import { recordBankEvents } from '../src/app/record-bank-event.ts'
import { replayDeadLetter } from '../src/app/replay-dead-letter.ts'
import type { Store } from '../src/ports/store.ts'
import { creditedBody } from './fuzz/hostile-input.ts'
import { type Fauxqs, fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { DESTINATION } from './support/ledger-fixture.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

// What SQS moved to `<name>-dlq` does not stay where nobody reads it: paybridge drains it into the
// ledger's dead letters (with the reason), from where it is replayed and recorded; on both ledgers.

const log = consoleLog({ level: 'error' })

interface Ledgers {
  store: Store
  /** The ids and reasons of the dead letters kept, straight from the table. */
  deadLetters(): Promise<{ id: number; reason: string; body: string }[]>
  events(): Promise<number>
  close(): Promise<void>
}

const sqliteLedgers = async (): Promise<Ledgers> => {
  const dir = tempDir('paybridge-drain-')
  const ledger: Ledger = openLedger(join(dir.path, 'ledger.sqlite'))
  const all = (sql: string) => ledger.sqlite.query(sql).all() as Record<string, unknown>[]
  return {
    store: sqliteStore(ledger),
    deadLetters: async () => all('select id, reason, body from dead_letters') as never,
    events: async () => Number(all('select count(*) as n from events')[0]?.n),
    close: async () => {
      ledger.close()
      dir.cleanup()
    },
  }
}

let pg: Postgres | undefined
const postgresLedgers = async (): Promise<Ledgers> => {
  pg ??= await startPostgres()
  const ledger: PgLedger = await openPgLedger(await pg.createDatabase('drain'))
  return {
    store: postgresStore(ledger),
    deadLetters: async () =>
      (await ledger.client`select id::int as id, reason, body from dead_letters`) as never,
    events: async () => Number((await ledger.client`select count(*)::int as n from events`)[0]?.n),
    close: () => ledger.close(),
  }
}

let fauxqs: Fauxqs
let sqs: SQSClient
beforeAll(async () => {
  fauxqs = await startFauxqs()
  sqs = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs.endpoint })
})
afterAll(async () => {
  sqs.destroy()
  await fauxqs.stop()
  await pg?.stop()
})

describe.each([
  ['sqlite', sqliteLedgers],
  ['postgres', postgresLedgers],
] as const)('SQS dead-letter queue drained into the %s ledger', (engine, open) => {
  it('keeps a message SQS dead-lettered with the reason, deletes it from the DLQ, and replays it into the ledger', async () => {
    const ledgers = await open()
    try {
      const name = `drain-${engine}`
      const queueUrl = await ensureQueue({ client: sqs, name, fifo: false, maxReceiveCount: 3 })
      const { QueueUrl: dlqUrl } = await sqs.send(
        new GetQueueUrlCommand({ QueueName: deadLetterQueueName(name, false) }),
      )
      const body = creditedBody('8100000000000001', '8200000000000001')
      await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body }))

      const drain = sqsDeadLetterDrain({
        client: sqs,
        queueName: name,
        store: ledgers.store,
        clock: Date.now,
        log,
      })
      expect(await drain.drainOnce()).toEqual({ moved: 1, more: false })
      const [kept, ...others] = await ledgers.deadLetters()
      expect(others).toEqual([])
      expect(kept).toMatchObject({ reason: 'dead-lettered by SQS after 3 receives', body })
      const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 0 }))
      expect(left.Messages ?? []).toEqual([])
      expect(await drain.drainOnce()).toEqual({ moved: 0, more: false })

      const queue = sqsQueue({ client: sqs, queueUrl })
      const replay = replayDeadLetter({ store: ledgers.store, queues: { [name]: queue }, log })
      expect(await replay(kept?.id ?? -1)).toMatchObject({ ok: true })
      expect(await ledgers.deadLetters()).toEqual([])
      expect(await replay(kept?.id ?? -1)).toEqual({ ok: false, message: `no dead letter ${kept?.id}` })

      const [message] = await queue.receive({ max: 10, waitMs: 1000 })
      expect(message?.body).toBe(body)
      const record = recordBankEvents({
        store: ledgers.store,
        destination: DESTINATION,
        payoutScope: 'all',
        clock: Date.now,
        log,
      })
      expect((await record([message?.body ?? '']))[0]?.kind).toBe('done')
      expect(await ledgers.events()).toBe(1)
    } finally {
      await ledgers.close()
    }
  }, 60_000)
})

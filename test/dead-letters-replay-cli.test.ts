import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { openPgLedger } from '../src/adapters/ledger/postgres/database.ts'
import { postgresStore } from '../src/adapters/ledger/postgres/store.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { ensureQueue } from '../src/adapters/sqs/provision.ts'
import type { Store } from '../src/ports/store.ts'
import { creditedBody } from './fuzz/hostile-input.ts'
import { type Fauxqs, fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { runCli } from './support/process.ts'

// `ledger dead-letters replay` as an operator runs it: on the SQLite file with its embedded queue, and
// on PostgreSQL (DATABASE_URL) with the events queue on SQS, where no /admin page replays them.

const QUEUE = 'stark-events'
const dir = tempDir('paybridge-dead-letters-cli-')
let pg: Postgres | undefined
let fauxqs: Fauxqs | undefined
beforeAll(async () => {
  ;[pg, fauxqs] = await Promise.all([startPostgres(), startFauxqs()])
}, 60_000)
afterAll(async () => {
  await Promise.all([pg?.stop(), fauxqs?.stop()])
  dir.cleanup()
})

interface Engine {
  name: string
  open(): Promise<{
    store: Store
    env: Record<string, string>
    /** Bodies now waiting on the events queue. */
    queued(): Promise<string[]>
    close(): Promise<void>
  }>
}

const engines: Engine[] = [
  {
    name: 'sqlite',
    async open() {
      const path = join(dir.path, 'ledger.sqlite')
      const ledger = openLedger(path)
      return {
        store: sqliteStore(ledger),
        env: { DATABASE_PATH: path },
        queued: async () =>
          (ledger.sqlite.query('select body from queue_messages').all() as { body: string }[]).map(
            (r) => r.body,
          ),
        close: async () => ledger.close(),
      }
    },
  },
  {
    name: 'postgres',
    async open() {
      const url = await pg!.createDatabase('dead_letters_cli')
      const ledger = await openPgLedger(url)
      const sqs = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs!.endpoint })
      const queueUrl = await ensureQueue({ client: sqs, name: QUEUE, fifo: false, maxReceiveCount: 5 })
      return {
        store: postgresStore(ledger),
        env: {
          DATABASE_URL: url,
          SQS_QUEUE_NAME: QUEUE,
          SQS_ENDPOINT: fauxqs!.endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          // Any SQLite file opened would appear here; none may be.
          DATABASE_PATH: join(dir.path, 'must-not-exist', 'ledger.sqlite'),
        },
        async queued() {
          const { Messages } = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
          )
          return (Messages ?? []).map((m) => m.Body ?? '')
        },
        close: async () => {
          sqs.destroy()
          await ledger.close()
        },
      }
    },
  },
]

for (const engine of engines) {
  describe(`ledger dead-letters replay on ${engine.name}`, () => {
    it('lists dead letters on --dry-run, then puts them back on their queue and removes them from the ledger', async () => {
      const { store, env, queued, close } = await engine.open()
      try {
        const body = creditedBody('9100000000000001', '9100000000000002')
        const entry = { queue: QUEUE, body, receiveCount: 5, reason: 'dead-lettered by SQS after 5 receives' }
        await store.deadLetter({ ...entry, messageId: 'm-1' }, Date.now())
        await store.deadLetter({ ...entry, messageId: 'm-2', queue: 'some-other-queue' }, Date.now())
        const [first, other] = await store.listDeadLetters(10)
        const cli = (args: string[]) =>
          runCli(['ledger', 'dead-letters', 'replay', ...args], {
            ...process.env,
            ...env,
            LOG_LEVEL: 'error',
          })

        const dry = await cli(['--all', '--dry-run'])
        expect([dry.code, dry.stderr]).toEqual([0, ''])
        expect(dry.stdout).toContain('would put 2 dead letter(s)')
        expect(dry.stdout).toContain('dead-lettered by SQS after 5 receives')
        expect(await store.listDeadLetters(10)).toHaveLength(2)

        const one = await cli(['--id', String(first!.id)])
        expect([one.code, one.stderr]).toEqual([0, ''])
        expect(await queued()).toEqual([body])
        expect((await store.listDeadLetters(10)).map((d) => d.id)).toEqual([other!.id])

        // A dead letter of a queue this paybridge does not serve stays kept, and the exit code says so.
        const rest = await cli(['--all'])
        expect(rest.code).toBe(1)
        expect(rest.stderr).toContain('some-other-queue is not served')
        expect(await store.listDeadLetters(10)).toHaveLength(1)

        expect((await cli(['--id', '999999'])).code).toBe(1)
        expect((await cli([])).code).toBe(2)
        expect((await cli(['--id', 'x'])).code).toBe(2)
        expect((await cli(['--all', '--bogus'])).code).toBe(2)
        expect(existsSync(join(dir.path, 'must-not-exist'))).toBe(false)
      } finally {
        await close()
      }
    }, 60_000)
  })
}

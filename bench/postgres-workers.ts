/**
 * Credited events per second, end to end (signed webhook → web → SQS → worker → ledger → relay →
 * Stark Bank transfer), with 1, 2 and 3 worker processes on one PostgreSQL ledger, beside the single
 * SQLite process, in one run. Every setup uses the same SQS server (fauxqs on loopback) and the local
 * Stark Bank emulator; each paybridge part is a real `bun run src/main.ts <roles>` process.
 *
 *   npx bun run bench/postgres-workers.ts [events=2000] [connections=32]
 *
 * Needs PostgreSQL's server binaries (`apt-get install -y postgresql`); a throwaway server is started.
 */
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { SQL } from 'bun'
import { generateKeyPair, privateKeyFromPem, sign } from '../src/adapters/starkbank/ecdsa.ts'
import { invoiceTag } from '../src/domain/invoice-batch.ts'
import { startFauxqs } from '../test/support/fauxqs.ts'
import { envFor, PROJECT_ID, tempDir } from '../test/support/paybridge.ts'
import { startPostgres } from '../test/support/postgres.ts'
import { type PaybridgeProcess, spawnPaybridge } from '../test/support/process.ts'
import { waitFor } from '../test/support/wait.ts'
import { benchEmulator } from './support/bench-emulator.ts'
import { machineLine } from './support/machine.ts'

const total = Number(process.argv[2] ?? 2000)
const connections = Number(process.argv[3] ?? 32)

const dir = tempDir('paybridge-bench-pg-')
const fauxqs = await startFauxqs()
const pg = await startPostgres()

interface Setup {
  label: string
  workers: number
  /** Processes to start: name → roles; the first one is the web process. */
  processes: [string, string[]][]
  env: Record<string, string>
  /** Stark Bank events recorded in the ledger so far. */
  recorded(): Promise<number>
  close(): Promise<void>
}

async function sqliteSetup(): Promise<Setup> {
  const path = join(dir.path, 'ledger.sqlite')
  let ledger: Database | undefined
  return {
    label: 'SQLite, one process',
    workers: 1,
    processes: [['all', ['web', 'worker', 'relay']]],
    env: { DATABASE_PATH: path },
    async recorded() {
      ledger ??= new Database(path, { readonly: true })
      return (ledger.query('select count(*) as n from events').get() as { n: number }).n
    },
    close: async () => ledger?.close(),
  }
}

async function postgresSetup(workers: number): Promise<Setup> {
  const url = await pg.createDatabase(`bench_${workers}`)
  const db = new SQL({ url, max: 1 })
  return {
    label: `PostgreSQL, ${workers} worker process${workers > 1 ? 'es' : ''}`,
    workers,
    processes: [
      ['web', ['web']],
      ...Array.from({ length: workers }, (_, i): [string, string[]] => [
        `worker-${i + 1}`,
        ['worker', 'relay'],
      ]),
    ],
    env: { DATABASE_URL: url },
    async recorded() {
      const [row] = (await db`select count(*)::int as n from events`) as { n: number }[]
      return row?.n ?? 0
    },
    close: () => db.close(),
  }
}

async function measure(setup: Setup) {
  const project = generateKeyPair()
  const signing = generateKeyPair()
  // No webhook URL: the emulator sends nothing back; the bench posts the credited events itself.
  const emulator = await benchEmulator(PROJECT_ID, project.publicPem, signing.privatePem)
  const tag = setup.label.replace(/\W+/g, '-').toLowerCase()
  const env = {
    ...process.env,
    ...envFor(emulator, project.privatePem, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SQS_ENDPOINT: fauxqs.endpoint,
      SQS_QUEUE_NAME: `bench-${tag}`,
      SQS_RECEIVE_LOOPS: '4',
      WORKER_CONCURRENCY: '16',
      RELAY_INTERVAL_MS: '50',
      QUEUE_VISIBILITY_MS: '30000',
      LOG_LEVEL: 'warn',
      // The bench's invoices were planned by no run of these ledgers: under the default scope
      // (issued) they would be recorded unpaid and no transfer would ever reach the emulator.
      PAYOUT_SCOPE: 'all',
      ...setup.env,
    }),
  }
  const procs: PaybridgeProcess[] = setup.processes.map(([name, roles], i) =>
    spawnPaybridge(
      roles,
      { ...env, LOG_LEVEL: i === 0 ? 'info' : 'warn' },
      join(dir.path, `${tag}-${name}.log`),
    ),
  )
  const webUrl = `http://127.0.0.1:${await procs[0]!.port()}/webhook/starkbank`
  // Give the workers time to open the ledger and start polling.
  await Bun.sleep(1_500)

  const secret = privateKeyFromPem(signing.privatePem)
  // Stark Bank ids are digit strings; paybridge's invoice tag marks each invoice as one it issued.
  const idBase = String(Date.now())
  const bodies = Array.from({ length: total }, (_, i) => {
    const n = String(i).padStart(6, '0')
    const body = JSON.stringify({
      event: {
        id: `${idBase}1${n}`,
        subscription: 'invoice',
        created: new Date().toISOString(),
        log: {
          id: `${idBase}2${n}`,
          type: 'credited',
          invoice: {
            id: `${idBase}3${n}`,
            amount: 10_000 + i,
            fee: 50,
            status: 'paid',
            tags: [invoiceTag(`bench-${tag}-${i}`)],
          },
        },
      },
    })
    return { body, signature: sign(body, secret) }
  })
  let next = 0
  let refused = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < bodies.length) {
        const item = bodies[next++]!
        const res = await fetch(webUrl, {
          method: 'POST',
          body: item.body,
          headers: { 'content-type': 'application/json', 'Digital-Signature': item.signature },
        })
        await res.arrayBuffer()
        if (res.status !== 200) refused++
      }
    }),
  )
  const accepted = performance.now()
  await waitFor('every event recorded', async () => (await setup.recorded()) >= total, 300_000, 10)
  const recorded = performance.now()
  await waitFor('every transfer created', () => emulator.transfers().length >= total, 300_000, 10)
  const paid = performance.now()
  const externalIds = new Set(emulator.transfers().map((t) => t.externalId))

  for (const p of procs) p.child.kill('SIGTERM')
  await Promise.all(procs.map((p) => p.child.exited))
  await emulator.stop()
  await setup.close()
  const perSecond = (ms: number) => Math.round(total / (ms / 1000))
  return {
    setup: setup.label,
    events: total,
    refused,
    'webhook req/s': perSecond(accepted - started),
    'recorded events/s': perSecond(recorded - started),
    'credited → transfer/s': perSecond(paid - started),
    'transfers (one each)': `${emulator.transfers().length} (${externalIds.size === total ? 'yes' : 'NO'})`,
  }
}

const rows = []
try {
  rows.push(await measure(await sqliteSetup()))
  for (const workers of [1, 2, 3]) rows.push(await measure(await postgresSetup(workers)))
} finally {
  await fauxqs.stop()
  await pg.stop()
  dir.cleanup()
}
console.log(
  `\ncredited events end to end: ${total} signed webhooks over ${connections} connections → SQS (fauxqs) → workers → ledger → relay → Stark Bank emulator`,
)
console.log(machineLine())
console.table(rows)
process.exit(0)

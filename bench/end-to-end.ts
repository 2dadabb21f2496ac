/**
 * End to end: signed `credited` webhooks in, transfer requests out. The clock runs from the first
 * POST until the emulator has received a transfer for every event. paybridge (`src/main.ts`) runs in
 * its own process; so does the load client; the emulator (the transfers' receiver) runs here.
 * Side by side: the embedded queue, and SQS on fauxqs (loopback), plus two references measured in the
 * same run: the Stark Bank SDK way's webhook ingest alone (`bench/baseline/sdk-webhook-server.ts`,
 * the same events and client; each row's `x SDK ingest` is its credited → transfer rate over it), and
 * fauxqs's own send + receive + delete rate (batches of 10, 4 loops) for the SQS row. Each row gives
 * paybridge's and fauxqs's CPU per event (/proc); the SQS row also the SQS calls per event by kind,
 * counted at fauxqs, beside the reference's.
 *
 *   bun run bench/end-to-end.ts [events=3000] [connections=50] [queues=embedded,sqs]
 *   E2E_CPU_PROF_DIR=/tmp/prof bun run bench/end-to-end.ts …   (paybridge runs under --cpu-prof)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { type FauxqsCalls, startFauxqs } from '../test/support/fauxqs.ts'
import { benchEmulator } from './support/bench-emulator.ts'
import { cpuMsOf } from './support/cpu-meter.ts'
import { fauxqsRate } from './support/fauxqs-rate.ts'
import { freePort, machineLine } from './support/machine.ts'
import { startServerProcess } from './support/server-process.ts'
import { signedCredits } from './support/signed-webhooks.ts'
import { wrkRequests } from './support/wrk.ts'

const events = Number(process.argv[2] ?? 3000)
const connections = Number(process.argv[3] ?? 50)
const queues = (process.argv[4] ?? 'embedded,sqs').split(',')
const profileDir = process.env.E2E_CPU_PROF_DIR
const PROJECT_ID = '5656565656565656'
const TIMEOUT_MS = 180_000

const dir = mkdtempSync(join(tmpdir(), 'paybridge-e2e-'))
const project = generateKeyPair()
const signing = generateKeyPair()
// fauxqs only runs when the SQS row does.
const fauxqs = queues.includes('sqs') ? await startFauxqs({ countCalls: true }) : undefined
const root = join(import.meta.dir, '..')

/** Posts the signed events once over `connections` from a separate process (the load client). */
async function post(url: string, file: string) {
  const client = Bun.spawn(
    [process.execPath, join(root, 'bench/support/post-webhooks.ts'), url, file, String(connections)],
    { stdout: 'pipe', stderr: 'inherit' },
  )
  return JSON.parse(await new Response(client.stdout).text()) as { failed: number; ms: number; p99: number }
}

/** The SDK way's ingest alone (`event.parse` + one insert per request), the same events and client. */
async function sdkIngest() {
  const emulator = await benchEmulator(PROJECT_ID, project.publicPem, signing.privatePem)
  const port = freePort()
  const server = await startServerProcess({
    cmd: [process.execPath, join(root, 'bench/baseline/sdk-webhook-server.ts')],
    env: {
      PORT: String(port),
      DATABASE_PATH: join(dir, 'sdk.sqlite'),
      STARK_PROJECT_ID: PROJECT_ID,
      STARK_PRIVATE_KEY: project.privatePem,
      STARK_API_URL: emulator.url,
    },
    url: `http://127.0.0.1:${port}`,
    readyPath: '/healthz',
  })
  const file = wrkRequests(dir, 'sdk', signedCredits(events, signing.privatePem, 'e2e-sdk'))
  const load = await post(`http://127.0.0.1:${port}/webhook/starkbank`, file)
  await server.stop()
  await emulator.stop()
  return { rps: (events - load.failed) / (load.ms / 1000), p99: load.p99 }
}

/** One run on `label`'s queue, with the worker and relay on their thread (`on`) or on the web's loop. */
async function measure(label: string, env: Record<string, string>, thread: 'on' | 'off') {
  const emulator = await benchEmulator(PROJECT_ID, project.publicPem, signing.privatePem)
  const run = `${label}-${thread}`
  const file = wrkRequests(dir, run, signedCredits(events, signing.privatePem, `e2e-${run}`))
  const port = freePort()
  const server = await startServerProcess({
    cmd: [
      process.execPath,
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      join(root, 'src/main.ts'),
    ],
    env: {
      PORT: String(port),
      DATABASE_PATH: join(dir, `${run}.sqlite`),
      WORKER_THREAD: thread,
      STARK_PROJECT_ID: PROJECT_ID,
      STARK_PRIVATE_KEY: project.privatePem,
      STARK_API_URL: emulator.url,
      LOG_LEVEL: 'warn',
      RELAY_INTERVAL_MS: '100',
      // Far above what the benchmark's transfers add up to: the daily cap would hold them.
      TRANSFER_MAX_DAILY_AMOUNT: String(Number.MAX_SAFE_INTEGER),
      // The benchmark's invoices were planned by no run of this ledger: pay every credited one.
      PAYOUT_SCOPE: 'all',
      ...env,
    },
    url: `http://127.0.0.1:${port}`,
    readyPath: '/healthz',
  })
  const before = emulator.transfers().length
  const cpuAtStart = { paybridge: cpuMsOf(server.pid), fauxqs: fauxqs ? cpuMsOf(fauxqs.pid) : 0 }
  const callsAtStart = await fauxqs?.calls()
  const started = performance.now()
  const load = await post(`http://127.0.0.1:${port}/webhook/starkbank`, file)
  const deadline = Date.now() + TIMEOUT_MS
  const received = () => emulator.transfers().length - before
  while (received() < events - load.failed && Date.now() < deadline) await Bun.sleep(50)
  const transfers = received()
  const seconds = (performance.now() - started) / 1000
  const perEvent = (ms: number) => (ms / Math.max(1, transfers)).toFixed(2)
  const cpu = {
    paybridge: perEvent(cpuMsOf(server.pid) - cpuAtStart.paybridge),
    fauxqs: fauxqs && label === 'sqs' ? perEvent(cpuMsOf(fauxqs.pid) - cpuAtStart.fauxqs) : '–',
  }
  if (fauxqs && callsAtStart && label === 'sqs')
    sqsCalls.push(
      callsPer(
        `paybridge, worker thread ${thread} (per event)`,
        callsAtStart,
        await fauxqs.calls(),
        transfers,
      ),
    )
  const peak = server.peakRssMb()
  await server.stop()
  await emulator.stop()
  return {
    queue: label,
    'worker thread': thread,
    events,
    'webhook req/s': Math.round(events / (load.ms / 1000)),
    'webhook p99 ms': load.p99.toFixed(1),
    'transfers received': transfers,
    'credited → transfer events/s': Math.round(transfers / seconds),
    'x SDK ingest': (transfers / seconds / sdk.rps).toFixed(1),
    'peak RSS MB': Math.round(peak),
    'paybridge CPU ms/event': cpu.paybridge,
    'fauxqs CPU ms/event': cpu.fauxqs,
  }
}

const sqsCalls: Record<string, string>[] = []
/** SQS requests between two counts at fauxqs, per message moved, by kind. */
function callsPer(label: string, from: FauxqsCalls, to: FauxqsCalls, messages: number) {
  const n = (action: string) => (to.calls[action] ?? 0) - (from.calls[action] ?? 0)
  const per = (count: number) => (count / Math.max(1, messages)).toFixed(3)
  const receives = n('ReceiveMessage')
  return {
    '': label,
    SendMessage: per(n('SendMessage')),
    SendMessageBatch: per(n('SendMessageBatch')),
    ReceiveMessage: per(receives),
    DeleteMessage: per(n('DeleteMessage')),
    DeleteMessageBatch: per(n('DeleteMessageBatch')),
    'ChangeMessageVisibility(Batch)': per(n('ChangeMessageVisibility') + n('ChangeMessageVisibilityBatch')),
    'messages per receive': ((to.received - from.received) / Math.max(1, receives)).toFixed(1),
  }
}

process.env.AWS_ACCESS_KEY_ID = 'test'
process.env.AWS_SECRET_ACCESS_KEY = 'test'
const sdk = await sdkIngest()
const rows = []
// Each queue with every role on one event loop (WORKER_THREAD=off), then with the default thread.
for (const thread of ['off', 'on'] as const) {
  if (queues.includes('embedded')) rows.push(await measure('embedded', {}, thread))
}
for (const thread of ['off', 'on'] as const) {
  if (fauxqs) {
    const sqsEnv = { AWS_REGION: 'us-east-1', SQS_ENDPOINT: fauxqs.endpoint, SQS_RECEIVE_LOOPS: '4' }
    rows.push(await measure('sqs', { ...sqsEnv, SQS_QUEUE_NAME: `bench-e2e-${thread}` }, thread))
  }
}
let reference: { rate: number; cpu: string } | undefined
if (fauxqs) {
  const [cpu, calls] = [cpuMsOf(fauxqs.pid), await fauxqs.calls()]
  const rate = await fauxqsRate(fauxqs.endpoint, events)
  reference = { rate, cpu: ((cpuMsOf(fauxqs.pid) - cpu) / events).toFixed(2) }
  sqsCalls.push(callsPer('fauxqs alone (per message)', calls, await fauxqs.calls(), events))
}
await fauxqs?.stop()
rmSync(dir, { recursive: true, force: true })

console.log(
  `\nend to end: ${events} signed credited webhooks → transfer requests at the emulator, ${connections} connections`,
)
console.log(machineLine())
console.log(
  `SDK way's ingest alone (event.parse + one insert, same events and client): ${Math.round(sdk.rps)} req/s, p99 ${sdk.p99.toFixed(1)} ms`,
)
console.table(rows)
const sqsRow = rows.find((r) => r.queue === 'sqs' && r['worker thread'] === 'on')
if (reference !== undefined && sqsRow) {
  console.log(
    `fauxqs alone (send 10/batch, then 4 loops of receive 10 + delete batch): ${reference.rate} messages/s, fauxqs CPU ${reference.cpu} ms/message`,
  )
  const share = Math.round((100 * sqsRow['credited → transfer events/s']) / Math.max(1, reference.rate))
  console.log(`SQS row (worker thread on): ${share} % of fauxqs's own rate. SQS calls counted at fauxqs:`)
  console.table(sqsCalls)
}
process.exit(0)

/**
 * CPU per event per role. Signed credited webhooks go through paybridge scaled out (web, worker and
 * relay each a `bun run src/main.ts <role>` process) on SQS (fauxqs) + PostgreSQL, and on the embedded
 * queue + SQLite (the roles sharing the file; also all three in one process). For each process on the
 * path (the roles, fauxqs, PostgreSQL's server processes, the Stark Bank emulator, the load client) it
 * prints CPU ms per event (user + system from /proc/<pid>/stat over the run, ÷ events), the same less
 * what the process burns idle (its rate in a 2 s idle window × the run's time), and the events/s one
 * core sustains for it (1000 ÷ that). CPU ms per event is also the cores one process kind needs per
 * 1,000 events/s, and it moves far less with the machine's load than events/s does.
 * Baseline in the same run: the SDK way's ingest alone (`starkbank.event.parse` + one insert).
 * With `taskset` and two cores, one more PostgreSQL run pins the worker alone to core 1.
 *
 *   npx bun run bench/role-cpu.ts [events=2000] [connections=32] [setups=sqlite-one,sqlite-roles,pg-roles,pg-pinned]
 *   ROLE_CPU_PROF_DIR=/tmp/prof npx bun run bench/role-cpu.ts …   (each role under --cpu-prof, with
 *   its .md summary; the profiler's own cost is then in the figures)
 *
 * Linux only (/proc). Needs PostgreSQL's server binaries (`apt-get install -y postgresql`).
 */
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { startFauxqs } from '../test/support/fauxqs.ts'
import { PROJECT_ID, tempDir } from '../test/support/paybridge.ts'
import { startPostgres } from '../test/support/postgres.ts'
import { type PaybridgeProcess, spawnPaybridge } from '../test/support/process.ts'
import { waitFor } from '../test/support/wait.ts'
import { canPin, cpuWindow, type Meter, pin, processMeter, serverMeter } from './support/cpu-meter.ts'
import { clientRow, cpuRows, cpuSummary, requestsPerEvent, shown } from './support/cpu-table.ts'
import { type EmulatorProcess, spawnEmulator } from './support/emulator-process.ts'
import { type Load, postWebhooks } from './support/load-client.ts'
import { freePort, machineLine } from './support/machine.ts'
import { startServerProcess } from './support/server-process.ts'
import { signedCredits } from './support/signed-webhooks.ts'
import { wrkRequests } from './support/wrk.ts'

const total = Number(process.argv[2] ?? 2000)
const connections = Number(process.argv[3] ?? 32)
const only = process.argv[4]?.split(',')
const profileDir = process.env.ROLE_CPU_PROF_DIR
const WARMUP = 300
const IDLE_MS = 2_000
const root = join(import.meta.dir, '..')
const dir = tempDir('paybridge-bench-cpu-')
const project = generateKeyPair()
const signing = generateKeyPair()
const machine = machineLine()
const fauxqs = await startFauxqs()
const pg = await startPostgres()
const supporting = [
  processMeter('fauxqs (SQS)', fauxqs.pid),
  serverMeter('PostgreSQL (all its processes)', pg.pids),
]

interface Setup {
  /** Picks the setup on the command line. */
  key: string
  label: string
  /** Processes to start: name → roles; the first is the web process. */
  processes: [string, string[]][]
  env(): Promise<Record<string, string>>
  support: Meter[]
  /** The process pinned alone to core 1 while every other one shares core 0. */
  alone?: string
}
const webhooks = (name: string, count: number) =>
  wrkRequests(dir.path, name, signedCredits(count, signing.privatePem, name))
const post = (url: string, file: string, cpus?: string) => postWebhooks(url, file, connections, cpus)
const emulatorProcess = () => spawnEmulator(PROJECT_ID, project.publicPem, signing.privatePem)
const names = (meters: Meter[]) => meters.map((m) => m.name)

async function measureBaseline() {
  const label = 'baseline: SDK event.parse + insert (ingest only)'
  const emulator = await emulatorProcess()
  const port = freePort()
  const server = await startServerProcess({
    cmd: [process.execPath, join(root, 'bench/baseline/sdk-webhook-server.ts')],
    env: {
      PORT: String(port),
      DATABASE_PATH: join(dir.path, 'baseline.sqlite'),
      STARK_PROJECT_ID: PROJECT_ID,
      STARK_PRIVATE_KEY: project.privatePem,
      STARK_API_URL: emulator.url,
    },
    url: `http://127.0.0.1:${port}`,
    readyPath: '/healthz',
  })
  try {
    const url = `http://127.0.0.1:${port}/webhook/starkbank`
    const [warm, file] = [webhooks('baseline-warm', WARMUP), webhooks('baseline', total)]
    await post(url, warm)
    const meters = [processMeter('SDK server (verify + insert)', server.pid)]
    const idle = await cpuWindow(meters, () => Bun.sleep(IDLE_MS))
    let load: Load | undefined
    const run = await cpuWindow(meters, async () => {
      load = await post(url, file)
    })
    if (!load) throw new Error('the load client printed nothing')
    const summary = `${label}: ${Math.round(total / (load.ms / 1000))} webhooks/s, ${load.failed} refused`
    return {
      rows: [...cpuRows(label, names(meters), total, run, idle), clientRow(label, total, load)],
      summary,
    }
  } finally {
    await server.stop()
    await emulator.stop()
  }
}

async function measure(setup: Setup) {
  const emulator = await emulatorProcess()
  try {
    return await measureWith(setup, emulator)
  } finally {
    await emulator.stop()
  }
}

/** Starts the setup's processes (the web one first), runs `drive`, and stops them, even on failure. */
async function measureWith(setup: Setup, emulator: EmulatorProcess) {
  const tag = setup.label.replace(/\W+/g, '-').toLowerCase()
  const env = {
    ...process.env,
    STARK_PROJECT_ID: PROJECT_ID,
    STARK_PRIVATE_KEY: project.privatePem,
    STARK_API_URL: emulator.url,
    STARK_TIMEOUT_MS: '5000',
    PORT: '0',
    LOG_FORMAT: 'text',
    // LOG_LEVEL at its default (info, as deployed: the web role logs each accepted webhook).
    // RELAY_INTERVAL_MS, WORKER_CONCURRENCY and SQS_RECEIVE_LOOPS at their defaults, as deployed.
    QUEUE_VISIBILITY_MS: '30000',
    // The benchmark's invoices were planned by no run of the ledger: pay out every credited one.
    PAYOUT_SCOPE: 'all',
    // Far above what the benchmark's transfers add up to: the daily cap would hold them.
    TRANSFER_MAX_DAILY_AMOUNT: String(Number.MAX_SAFE_INTEGER),
    ...(await setup.env()),
  }
  const profile = (name: string) =>
    profileDir
      ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${tag}-${name}`]
      : []
  const spawn = ([name, roles]: [string, string[]]) => {
    const log = join(dir.path, `${tag}-${name}.log`)
    return [name, spawnPaybridge(roles, env, log, profile(name))] as const
  }
  const [first, ...rest] = setup.processes
  if (!first) throw new Error(`${setup.label}: no processes`)
  // The web process first: it applies the migrations before the others open the ledger.
  const web = spawn(first)
  const url = `http://127.0.0.1:${await web[1].port()}/webhook/starkbank`
  const procs: (readonly [string, PaybridgeProcess])[] = [web, ...rest.map((p) => spawn(p))]
  try {
    return await drive(setup, tag, url, procs, emulator)
  } catch (error) {
    for (const [name, p] of procs)
      process.stderr.write(`--- ${name} log (end):\n${(await p.logs()).slice(-2000)}\n`)
    throw error
  } finally {
    for (const [, p] of procs) p.child.kill('SIGTERM')
    await Promise.all(procs.map(([, p]) => p.child.exited))
    if (setup.alone) pin([process.pid], `0-${availableParallelism() - 1}`)
  }
}

/** Warms up, measures idle, then measures the run: every webhook posted and every transfer made. */
async function drive(
  setup: Setup,
  tag: string,
  url: string,
  procs: (readonly [string, PaybridgeProcess])[],
  emulator: EmulatorProcess,
) {
  const [warm, file] = [webhooks(`${tag}-warm`, WARMUP), webhooks(tag, total)]
  const meters = [
    ...procs.map(([name, p]) => processMeter(`paybridge ${name}`, p.child.pid)),
    ...setup.support,
    emulator.meter,
  ]
  const transfers = async () => (await emulator.received()).transfers
  // Warm up (JIT, connections, the bank's public key) before anything is measured.
  const warmed = await post(url, warm)
  await waitFor(
    'the warm-up transfers',
    async () => (await transfers()) >= WARMUP - warmed.failed,
    120_000,
    100,
  )
  if (setup.alone) {
    for (const m of meters) pin(m.pids(), m.name === `paybridge ${setup.alone}` ? '1' : '0')
    pin([process.pid], '0')
  }
  const idle = await cpuWindow(meters, () => Bun.sleep(IDLE_MS))
  const start = await emulator.received()
  const before = start.transfers
  let load: Load | undefined
  const run = await cpuWindow(meters, async () => {
    const sent = await post(url, file, setup.alone ? '0' : undefined)
    load = sent
    const wanted = before + total - sent.failed
    await waitFor('every transfer at the emulator', async () => (await transfers()) >= wanted, 300_000, 100)
  })
  const end = await emulator.received()
  if (!load) throw new Error('the load client printed nothing')
  const measured = [
    ...cpuRows(setup.label, names(meters), total, run, idle),
    clientRow(setup.label, total, load),
  ]
  const summary =
    `${setup.label}: ${Math.round(total / (run.wallMs / 1000))} events/s end to end, ` +
    `${end.transfers - before} transfers, one per event: ${end.externalIds === end.transfers ? 'yes' : 'NO'}, ` +
    `${load.failed} webhooks refused; ${cpuSummary(measured)}; Stark Bank requests per event: ` +
    requestsPerEvent(start.requests, end.requests, total)
  return { rows: measured, summary }
}

const sqliteEnv = (name: string) => async () => ({ DATABASE_PATH: join(dir.path, `${name}.sqlite`) })
let databases = 0
const postgresEnv = async () => ({
  DATABASE_URL: await pg.createDatabase(`bench_cpu_${++databases}`),
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  SQS_ENDPOINT: fauxqs.endpoint,
  SQS_QUEUE_NAME: `bench-cpu-${databases}`,
})
const perRole: [string, string[]][] = [
  ['web', ['web']],
  ['worker', ['worker']],
  ['relay', ['relay']],
]
const setups: Setup[] = [
  {
    key: 'sqlite-one',
    label: 'SQLite + embedded queue, one process',
    processes: [['web+worker+relay', ['web', 'worker', 'relay']]],
    env: sqliteEnv('one'),
    support: [],
  },
  {
    key: 'sqlite-roles',
    label: 'SQLite + embedded queue, a process per role',
    processes: perRole,
    env: sqliteEnv('roles'),
    support: [],
  },
  {
    key: 'pg-roles',
    label: 'PostgreSQL + SQS, a process per role',
    processes: perRole,
    env: postgresEnv,
    support: supporting,
  },
]
if (canPin(availableParallelism())) {
  setups.push({
    key: 'pg-pinned',
    label: 'PostgreSQL + SQS, worker alone on core 1',
    processes: perRole,
    env: postgresEnv,
    support: supporting,
    alone: 'worker',
  })
}

const results = []
try {
  results.push(await measureBaseline())
  for (const setup of setups.filter((s) => !only || only.includes(s.key))) {
    results.push(await measure(setup))
    process.stderr.write(`${results.at(-1)?.summary}\n`)
  }
} finally {
  await fauxqs.stop()
  await pg.stop()
  dir.cleanup()
}
console.log(
  `\nCPU per event per process: ${total} signed credited webhooks over ${connections} connections → queue → worker → ledger → relay → Stark Bank emulator (after ${WARMUP} to warm up)`,
)
console.log(machine)
const sdkIngest = results[0]?.rows[0]?.msPerEvent ?? Number.NaN
console.table(
  shown(
    results.flatMap((r) => r.rows),
    sdkIngest,
  ),
)
for (const r of results) console.log(`- ${r.summary}`)
console.log(
  "CPU ms per event = cores one process kind needs per 1,000 events/s; events/s per core = 1000 ÷ it. 'beyond idle' takes away the process's idle rate (2 s before the run) over the run's time: a lower bound. The pinned run puts every process but the worker on core 0.",
)
process.exit(0)

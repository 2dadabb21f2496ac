/**
 * Webhook ingest: signed Stark Bank webhooks verified, made durable on a queue and answered 200, at
 * 50 connections driven by wrk from its own process. Side by side in one run:
 *   - baseline: the Stark Bank SDK README way (`starkbank.event.parse` in the handler, then one
 *     SQLite insert per request);
 *   - paybridge: `src/main.ts` as deployed (webhook, worker, relay and scheduler in one process);
 *   - paybridge's webhook path alone, in 1 and in 2 processes sharing the port (`reusePort`).
 * Every server is a separate process with a fresh ledger; the emulator serves the public key. The
 * events are invoice `created` logs (not credits): every one is verified, queued and recorded, none
 * is paid out, so the row measures ingest, not transfers (bench/end-to-end.ts measures those).
 *
 *   bun run bench/webhook-ingest.ts [seconds=5] [connections=50]
 *
 * `BENCH_ONLY=1,2` runs only those rows (0 is the baseline; its ratio column is then blank unless 0
 * is among them); `BENCH_PROFILE=<dir>` writes a `--cpu-prof` profile of each server process there.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { benchEmulator } from './support/bench-emulator.ts'
import { freePort, machineLine } from './support/machine.ts'
import { startServerProcess } from './support/server-process.ts'
import { signedCredits } from './support/signed-webhooks.ts'
import { requireWrk, runWrk, wrkRequests } from './support/wrk.ts'

const seconds = Number(process.argv[2] ?? 5)
const connections = Number(process.argv[3] ?? 50)
const PROJECT_ID = '5656565656565656'
requireWrk()

const dir = mkdtempSync(join(tmpdir(), 'paybridge-bench-'))
const project = generateKeyPair()
const signing = generateKeyPair()
const emulator = await benchEmulator(PROJECT_ID, project.publicPem, signing.privatePem)
// Distinct events for the measured run (enough for 12k/s) and a separate set to warm up with.
const events = (count: number, prefix: string) => signedCredits(count, signing.privatePem, prefix, 'created')
const measured = wrkRequests(dir, 'measured', events(seconds * 12_000, 'ev'))
const warmup = wrkRequests(dir, 'warmup', events(3_000, 'warm'))
const only = process.env.BENCH_ONLY?.split(',').map(Number)
const profileDir = process.env.BENCH_PROFILE

const bun = process.execPath
const root = join(import.meta.dir, '..')
const variants = [
  {
    name: 'baseline: SDK event.parse + insert',
    cmd: [bun, join(root, 'bench/baseline/sdk-webhook-server.ts')],
  },
  { name: 'paybridge (src/main.ts, worker on)', cmd: [bun, join(root, 'src/main.ts')] },
  {
    name: 'paybridge webhook path, 1 process',
    cmd: [bun, join(root, 'bench/support/webhook-only-server.ts')],
  },
  {
    name: 'paybridge webhook path, 2 processes',
    cmd: [bun, join(root, 'bench/support/webhook-only-server.ts')],
    processes: 2,
  },
]

const rows: Record<string, string | number>[] = []
let baselineRps = 0
for (const [i, variant] of variants.entries()) {
  if (only && !only.includes(i)) continue
  const port = freePort()
  const url = `http://127.0.0.1:${port}`
  const server = await startServerProcess({
    cmd: profileDir
      ? [variant.cmd[0] ?? bun, '--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...variant.cmd.slice(1)]
      : variant.cmd,
    env: {
      PORT: String(port),
      DATABASE_PATH: join(dir, `ledger-${i}.sqlite`),
      STARK_PROJECT_ID: PROJECT_ID,
      STARK_PRIVATE_KEY: project.privatePem,
      STARK_API_URL: emulator.url,
      LOG_LEVEL: 'warn',
    },
    url,
    // src/main.ts has no /readyz yet; the verifier loads the key during the warm-up.
    readyPath: '/healthz',
    processes: variant.processes ?? 1,
  })
  const idle = server.rssMb()
  await runWrk({ url: `${url}/webhook/starkbank`, file: warmup, connections, threads: 2, seconds: 1 })
  server.resetPeak()
  const cpuBefore = server.cpuSeconds()
  const r = await runWrk({
    url: `${url}/webhook/starkbank`,
    file: measured,
    connections,
    threads: 2,
    seconds,
  })
  const peak = server.peakRssMb()
  const cpuUs = ((server.cpuSeconds() - cpuBefore) * 1e6) / r.requests
  await server.stop()
  if (i === 0) baselineRps = r.rps
  rows.push({
    server: variant.name,
    'req/s': Math.round(r.rps),
    'x baseline': baselineRps ? (r.rps / baselineRps).toFixed(1) : '',
    'p50 ms': r.p50Ms.toFixed(1),
    'p99 ms': r.p99Ms.toFixed(1),
    'non-200': r.failed,
    // CPU per request moves far less than req/s when other work shares the machine.
    'server CPU µs/req': Math.round(cpuUs),
    'RSS MB idle → peak': `${Math.round(idle)} → ${Math.round(peak)}`,
  })
  process.stderr.write(`${variant.name}: ${Math.round(r.rps)} req/s\n`)
}
await emulator.stop()
rmSync(dir, { recursive: true, force: true })

console.log(
  `\nwebhook ingest: verify + durable enqueue + 200, wrk -t2 -c${connections} -d${seconds}s, loopback`,
)
console.log(machineLine())
console.table(rows)
process.exit(0)

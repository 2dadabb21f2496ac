/**
 * Start-up: from spawning the process to its readiness URL answering 200, the CPU it used by then
 * (user + system, every thread: moves far less than the wall time when other work shares the
 * machine), and RSS once idle (2 s later). paybridge (`src/main.ts` against the emulator, fresh ledger) beside the SDK baseline
 * server, median of `runs` starts each. Uses /readyz when paybridge answers it, else /healthz (and
 * says which).
 *
 *   bun run bench/startup.ts [runs=5]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { benchEmulator } from './support/bench-emulator.ts'
import { cpuMsOf } from './support/cpu-meter.ts'
import { freePort, machineLine } from './support/machine.ts'
import { startServerProcess } from './support/server-process.ts'

const runs = Number(process.argv[2] ?? 5)
const PROJECT_ID = '5656565656565656'
const dir = mkdtempSync(join(tmpdir(), 'paybridge-startup-'))
const project = generateKeyPair()
const emulator = await benchEmulator(PROJECT_ID, project.publicPem)
const root = join(import.meta.dir, '..')

async function probeReadyPath(): Promise<string> {
  const server = await start(join(root, 'src/main.ts'), '/healthz', 'probe')
  const status = await fetch(`http://127.0.0.1:${server.port}/readyz`).then((r) => r.status)
  await server.process.stop()
  return status === 404 ? '/healthz' : '/readyz'
}

async function start(script: string, readyPath: string, tag: string) {
  const port = freePort()
  const process_ = await startServerProcess({
    cmd: [process.execPath, script],
    env: {
      PORT: String(port),
      DATABASE_PATH: join(dir, `${tag}.sqlite`),
      STARK_PROJECT_ID: PROJECT_ID,
      STARK_PRIVATE_KEY: project.privatePem,
      STARK_API_URL: emulator.url,
      LOG_LEVEL: 'warn',
    },
    url: `http://127.0.0.1:${port}`,
    readyPath,
    timeoutMs: 30_000,
  })
  return { port, process: process_ }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const readyPath = await probeReadyPath()
const rows = []
for (const [name, script, path] of [
  ['baseline: SDK event.parse server', join(root, 'bench/baseline/sdk-webhook-server.ts'), '/healthz'],
  ['paybridge (src/main.ts)', join(root, 'src/main.ts'), readyPath],
] as const) {
  const ready: number[] = []
  const cpu: number[] = []
  const rss: number[] = []
  for (let i = 0; i < runs; i++) {
    const server = await start(script, path, `${name.length}-${i}`)
    ready.push(server.process.readyMs)
    cpu.push(cpuMsOf(server.process.pid))
    await Bun.sleep(2000)
    rss.push(server.process.rssMb())
    await server.process.stop()
  }
  rows.push({
    server: name,
    'ready on': path,
    'ready ms (median)': Math.round(median(ready)),
    'ready ms (min–max)': `${Math.round(Math.min(...ready))}–${Math.round(Math.max(...ready))}`,
    'CPU ms to ready (median)': Math.round(median(cpu)),
    'idle RSS MB (median)': Math.round(median(rss)),
  })
}
await emulator.stop()
rmSync(dir, { recursive: true, force: true })

console.log(
  `\nstart-up: spawn → ${readyPath} answers 200, ${runs} starts each; CPU (user + system) by then; idle RSS 2 s after ready`,
)
if (readyPath === '/healthz') console.log('(src/main.ts does not serve /readyz yet: measured to /healthz)')
console.log(machineLine())
console.table(rows)
process.exit(0)

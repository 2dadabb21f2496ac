// Soak: signed Stark Bank webhooks at a steady rate for several minutes into paybridge running as a
// real process (worker and transfer relay on, against the emulator). Prints paybridge's RSS at the
// start, every 30 s and at the end, then checks that every accepted event became exactly one transfer.
//   ./node_modules/.bin/bun run bench/soak.ts [--minutes 3] [--rate 100] [--every 30]

import { Database } from 'bun:sqlite'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderTable } from '../src/adapters/cli/table.ts'
import { generateKeyPair, privateKeyFromPem, sign } from '../src/adapters/starkbank/ecdsa.ts'
import { invoiceTag } from '../src/domain/invoice-batch.ts'
import { transferIdFor } from '../src/domain/transfer.ts'
import { benchEmulator } from './support/bench-emulator.ts'

const PROJECT_ID = '7878787878787878'
const ROOT = join(import.meta.dir, '..')

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  const value = at < 0 ? fallback : Number(process.argv[at + 1])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`)
  return value
}

const minutes = option('minutes', 3)
const rate = option('rate', 100)
const everySeconds = option('every', 30)

function rssMb(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    return kb / 1024
  } catch {
    return 0
  }
}

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port as number
  probe.stop(true)
  return port
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0

const dir = mkdtempSync(join(tmpdir(), 'paybridge-soak-'))
const project = generateKeyPair()
const signing = generateKeyPair()
const secret = privateKeyFromPem(signing.privatePem)
const emulator = await benchEmulator(PROJECT_ID, project.publicPem, signing.privatePem)
const port = freePort()
const ledgerPath = join(dir, 'ledger.sqlite')
const child = Bun.spawn([process.execPath, 'run', 'src/main.ts'], {
  cwd: ROOT,
  env: {
    PATH: process.env.PATH ?? '',
    STARK_PROJECT_ID: PROJECT_ID,
    STARK_PRIVATE_KEY: project.privatePem,
    STARK_API_URL: emulator.url,
    PORT: String(port),
    DATABASE_PATH: ledgerPath,
    RELAY_INTERVAL_MS: '200',
    // Soak traffic is synthetic: no daily cap should hold it.
    TRANSFER_MAX_DAILY_AMOUNT: String(Number.MAX_SAFE_INTEGER),
    // The soak's invoices were planned by no run of this ledger: pay every credited one.
    PAYOUT_SCOPE: 'all',
    LOG_LEVEL: 'warn',
  },
  stdout: 'ignore',
  stderr: Bun.file(join(dir, 'paybridge.log')),
})
const stopChild = async () => {
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  await child.exited
  clearTimeout(timer)
}

try {
  const webhookUrl = `http://127.0.0.1:${port}/webhook/starkbank`
  const ready = Date.now() + 20_000
  while (
    !(await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.ok)
      .catch(() => false))
  ) {
    if (Date.now() > ready || child.exitCode !== null)
      throw new Error(`paybridge did not start; see ${dir}/paybridge.log`)
    await Bun.sleep(50)
  }

  const created = new Date().toISOString()
  let sent = 0
  const accepted: { invoiceId: string; credited: number }[] = []
  const refused = new Map<number, number>()
  const latencies: number[] = []
  async function deliver(i: number) {
    const invoiceId = `${9_000_000_000_000_000 + i}`
    const amount = 10_000 + (i % 90_000)
    const body = JSON.stringify({
      event: {
        id: `${8_000_000_000_000_000 + i}`,
        subscription: 'invoice',
        created,
        workspaceId: emulator.workspaceId,
        log: {
          id: `${7_000_000_000_000_000 + i}`,
          type: 'credited',
          created,
          errors: [],
          // paybridge's invoice tag, as on the invoices it issues.
          invoice: { id: invoiceId, amount, fee: 50, status: 'paid', tags: [invoiceTag(`soak-${i}`)] },
        },
      },
    })
    const started = performance.now()
    const status = await fetch(webhookUrl, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', 'Digital-Signature': sign(body, secret) },
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (r) => {
        await r.arrayBuffer()
        return r.status
      })
      .catch(() => 0)
    latencies.push(performance.now() - started)
    if (status === 200) accepted.push({ invoiceId, credited: amount - 50 })
    else refused.set(status, (refused.get(status) ?? 0) + 1)
  }

  const ledger = new Database(ledgerPath, { readonly: true })
  const backlog = () => {
    const q = (sql: string) => (ledger.query(sql).get() as { n: number }).n
    return {
      queued: q('select count(*) as n from queue_messages'),
      outbox: q("select count(*) as n from outbox where status != 'done'"),
    }
  }
  const rows: Record<string, string | number>[] = []
  const started = Date.now()
  const sample = (label: string) => {
    const window = latencies.splice(0).sort((a, b) => a - b)
    const b = backlog()
    rows.push({
      at: label,
      'paybridge RSS MB': rssMb(child.pid).toFixed(1),
      'webhooks sent': sent,
      accepted: accepted.length,
      'transfers at bank': emulator.counts['POST /v2/transfer'] > 0 ? emulator.transfers().length : 0,
      'queue backlog': b.queued,
      'outbox open': b.outbox,
      'p50 ms': window.length ? percentile(window, 0.5).toFixed(1) : '-',
      'p99 ms': window.length ? percentile(window, 0.99).toFixed(1) : '-',
    })
    process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`)
  }
  sample('start')

  // A steady rate: every 100 ms, the requests due by then (no catching up in bursts after a stall).
  const end = started + minutes * 60_000
  const inFlight = new Set<Promise<void>>()
  let nextSample = started + everySeconds * 1000
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate)
    while (sent < due && inFlight.size < 500) {
      const p: Promise<void> = deliver(sent++).finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    if (Date.now() >= nextSample) {
      sample(`${Math.round((Date.now() - started) / 1000)} s`)
      nextSample += everySeconds * 1000
    }
    await Bun.sleep(100)
  }
  await Promise.all([...inFlight])

  // Drain: the worker and relay finish what was accepted (bounded).
  const drainDeadline = Date.now() + 120_000
  while (Date.now() < drainDeadline) {
    const b = backlog()
    if (b.queued === 0 && b.outbox === 0) break
    await Bun.sleep(250)
  }
  sample('end (drained)')
  ledger.close()

  const transfers = emulator.transfers()
  const byExternal = new Map<string, number>()
  for (const t of transfers) byExternal.set(t.externalId ?? '', (byExternal.get(t.externalId ?? '') ?? 0) + 1)
  const lost = accepted.filter((a) => !byExternal.has(transferIdFor(a.invoiceId))).length
  const doubled = accepted.filter((a) => (byExternal.get(transferIdFor(a.invoiceId)) ?? 0) > 1).length
  const amounts = new Map(transfers.map((t) => [t.externalId, t.amount]))
  const wrongAmount = accepted.filter((a) => amounts.get(transferIdFor(a.invoiceId)) !== a.credited).length
  const first = Number(rows[0]?.['paybridge RSS MB'] ?? 0)
  const last = Number(rows.at(-1)?.['paybridge RSS MB'] ?? 0)
  const peak = Math.max(...rows.map((r) => Number(r['paybridge RSS MB'])))

  process.stdout.write(
    `\nsoak: ${minutes} min at ${rate} webhooks/s into paybridge (embedded queue, worker + relay on, Stark Bank emulator)\n\n`,
  )
  process.stdout.write(renderTable(rows))
  process.stdout.write(
    `\nsent ${sent}, accepted ${accepted.length}, refused ${JSON.stringify(Object.fromEntries(refused))}; ` +
      `transfers at Stark Bank ${transfers.length}: lost ${lost}, doubled ${doubled}, wrong amount ${wrongAmount}\n` +
      `RSS: start ${first.toFixed(1)} MB, peak ${peak.toFixed(1)} MB, end ${last.toFixed(1)} MB\n`,
  )
  await stopChild()
  await emulator.stop()
  rmSync(dir, { recursive: true, force: true })
  process.exit(lost + doubled + wrongAmount > 0 || accepted.length === 0 ? 1 : 0)
} catch (err) {
  process.stderr.write(`soak failed: ${String(err)}\n`)
  await stopChild()
  await emulator.stop()
  process.exit(1)
}

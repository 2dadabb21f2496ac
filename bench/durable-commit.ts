/**
 * What a power-loss-durable 200 costs: the embedded queue's send (the commit behind a webhook's 200)
 * three ways, all group-committed: `synchronous = NORMAL` with no sync (not durable; the baseline),
 * `FULL` (the fsync inside the commit, blocking the event loop: how it was), and NORMAL followed by
 * an fdatasync of the WAL off the event loop (now). `senders` callers each spend `cpuUs` of CPU (a
 * webhook's verify, parse and HTTP) and then send one message and wait for its commit, over and
 * over, as concurrent webhooks do; one sender is the no-grouping case. No network.
 *
 *   npx bun run bench/durable-commit.ts [messages=4000] [senders=1,16,64] [cpuUs=150]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { machineLine } from './support/machine.ts'

const total = Number(process.argv[2] ?? 4000)
const senderCounts = (process.argv[3] ?? '1,16,64').split(',').map(Number)
const cpuUs = Number(process.argv[4] ?? 150)
const body = JSON.stringify({
  event: { id: 'x'.repeat(24), log: { type: 'credited', pad: 'y'.repeat(600) } },
})

type Mode =
  | 'NORMAL, no sync (baseline)'
  | 'FULL in the commit (before)'
  | 'NORMAL + WAL sync off the loop (now)'
const MODES: Mode[] = [
  'NORMAL, no sync (baseline)',
  'FULL in the commit (before)',
  'NORMAL + WAL sync off the loop (now)',
]

function spin(us: number): void {
  const until = performance.now() + us / 1000
  while (performance.now() < until) {}
}

async function run(mode: Mode, senders: number) {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-durable-'))
  const ledger = openLedger(join(dir, 'ledger.sqlite'))
  const noSync = { ...ledger.wal, sync: async () => {} }
  if (mode === 'FULL in the commit (before)') ledger.sqlite.exec('PRAGMA synchronous = FULL')
  const queue = sqliteQueue({
    ledger: mode === 'NORMAL + WAL sync off the loop (now)' ? ledger : { ...ledger, wal: noSync },
    name: 'bench',
  })
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < total) {
        next++
        const t = performance.now()
        spin(cpuUs)
        await queue.send([{ body }])
        latencies.push(performance.now() - t)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const syncs = ledger.wal.syncs()
  ledger.close()
  rmSync(dir, { recursive: true, force: true })
  latencies.sort((a, b) => a - b)
  const at = (q: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(2)
  return { rate: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99), syncs }
}

console.log(`durable commit: ${total} sends per row, ${cpuUs} µs of CPU before each; ${machineLine()}`)
console.log('| senders | commit | sends/s | p50 ms | p99 ms | WAL syncs |')
console.log('|---:|---|---:|---:|---:|---:|')
for (const senders of senderCounts) {
  for (const mode of MODES) {
    const r = await run(mode, senders)
    console.log(`| ${senders} | ${mode} | ${r.rate} | ${r.p50} | ${r.p99} | ${r.syncs} |`)
  }
}

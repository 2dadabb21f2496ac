/**
 * What a power-loss-durable 200 costs: the embedded queue's send (the commit behind a webhook's 200)
 * with `synchronous = NORMAL` (the baseline, as before) against `FULL` (now), both group-committed.
 * `senders` callers each send one message and wait for its commit, over and over, as concurrent
 * webhooks do; one sender is the no-grouping case (one commit, one fsync per message). No network.
 *
 *   npx bun run bench/durable-commit.ts [messages=4000] [senders=1,16,64]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { machineLine } from './support/machine.ts'

const total = Number(process.argv[2] ?? 4000)
const senderCounts = (process.argv[3] ?? '1,16,64').split(',').map(Number)
const body = JSON.stringify({
  event: { id: 'x'.repeat(24), log: { type: 'credited', pad: 'y'.repeat(600) } },
})

async function run(synchronous: 'NORMAL' | 'FULL', senders: number) {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-durable-'))
  const ledger = openLedger(join(dir, 'ledger.sqlite'))
  ledger.queueWriter.exec(`PRAGMA synchronous = ${synchronous}`)
  const queue = sqliteQueue({ ledger, name: 'bench' })
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < total) {
        next++
        const t = performance.now()
        await queue.send([{ body }])
        latencies.push(performance.now() - t)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  ledger.close()
  rmSync(dir, { recursive: true, force: true })
  latencies.sort((a, b) => a - b)
  const at = (q: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(2)
  return { rate: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99) }
}

console.log(`durable commit: ${total} sends per row; ${machineLine()}`)
console.log('| senders | synchronous | sends/s | p50 ms | p99 ms |')
console.log('|---:|---|---:|---:|---:|')
for (const senders of senderCounts) {
  for (const synchronous of ['NORMAL', 'FULL'] as const) {
    const r = await run(synchronous, senders)
    const label = synchronous === 'NORMAL' ? 'NORMAL (baseline)' : 'FULL (now)'
    console.log(`| ${senders} | ${label} | ${r.rate} | ${r.p50} | ${r.p99} |`)
  }
}

/**
 * Messages per second through webhook → queue → worker → ledger, on the embedded SQLite queue and on
 * SQS (fauxqs on loopback), in one run. Each message is a signed `invoice`/`credited` webhook; the
 * clock runs from the first POST until every event is a row in the ledger.
 *
 *   npx bun run bench/queue-throughput.ts [messages=2000] [connections=50]
 */
import { privateKeyFromPem, sign } from '../src/adapters/starkbank/ecdsa.ts'
import { startFauxqs } from '../test/support/fauxqs.ts'
import { startRig } from '../test/support/paybridge.ts'

const total = Number(process.argv[2] ?? 2000)
const connections = Number(process.argv[3] ?? 50)

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

async function measure(label: string, env: Record<string, string>) {
  const rig = await startRig({ payShare: 0, env: { WORKER_CONCURRENCY: '16', ...env } })
  const secret = privateKeyFromPem(rig.signingKey)
  const bodies = Array.from({ length: total }, (_, i) => {
    const body = JSON.stringify({
      event: {
        id: `bench-${label}-${i}`,
        subscription: 'invoice',
        created: new Date().toISOString(),
        log: {
          id: `log-${i}`,
          type: 'credited',
          invoice: { id: `inv-${label}-${i}`, amount: 10_000 + i, fee: 50, status: 'paid', tags: [] },
        },
      },
    })
    return { body, signature: sign(body, secret) }
  })
  const latencies: number[] = []
  let next = 0
  let failed = 0
  const count = () =>
    (rig.paybridge.ledger.sqlite.query('select count(*) as n from events').get() as { n: number }).n
  const rssBefore = process.memoryUsage().rss
  const started = performance.now()
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < bodies.length) {
        const item = bodies[next++]!
        const t0 = performance.now()
        const res = await fetch(rig.webhookUrl, {
          method: 'POST',
          body: item.body,
          headers: { 'content-type': 'application/json', 'Digital-Signature': item.signature },
        })
        await res.arrayBuffer()
        latencies.push(performance.now() - t0)
        if (res.status !== 200) failed++
      }
    }),
  )
  const accepted = performance.now()
  while (count() < total - failed) await Bun.sleep(5)
  const done = performance.now()
  const rss = process.memoryUsage().rss
  await rig.stop()
  latencies.sort((a, b) => a - b)
  return {
    queue: label,
    messages: total,
    failed,
    'webhook req/s': Math.round(total / ((accepted - started) / 1000)),
    'webhook p50 ms': percentile(latencies, 50).toFixed(1),
    'webhook p99 ms': percentile(latencies, 99).toFixed(1),
    'end-to-end msg/s': Math.round((total - failed) / ((done - started) / 1000)),
    'RSS MB': `${Math.round(rssBefore / 1e6)} → ${Math.round(rss / 1e6)}`,
  }
}

const fauxqs = await startFauxqs()
process.env.AWS_ACCESS_KEY_ID = 'test'
process.env.AWS_SECRET_ACCESS_KEY = 'test'
const rows = [
  await measure('embedded', {}),
  await measure('sqs', {
    AWS_REGION: 'us-east-1',
    SQS_ENDPOINT: fauxqs.endpoint,
    SQS_QUEUE_NAME: 'bench-stark-events',
    SQS_RECEIVE_LOOPS: '4',
  }),
]
await fauxqs.stop()
console.log(
  `\nwebhook → queue → worker → ledger, ${total} signed webhooks, ${connections} connections (bun ${Bun.version})`,
)
console.table(rows)
process.exit(0)

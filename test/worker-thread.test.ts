import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { consoleLog } from '../src/adapters/console-log.ts'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { loadConfig } from '../src/config.ts'
import type { Metrics } from '../src/ports/metrics.ts'
import { startWorkerThread } from '../src/roles/worker-thread.ts'
import { type Fauxqs, startFauxqs } from './support/fauxqs.ts'
import { sample } from './support/metrics-sample.ts'
import { type Rig, startRig } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { waitFor } from './support/wait.ts'

// WORKER_THREAD=on (the default where the web role runs beside the worker and relay): the worker and
// relay run on a Bun worker thread with their own connection to the ledger. What they do must not
// change: each credited invoice paid once, their counters in the process's /metrics, their log lines in
// the process's log, /readyz and the gap fill answered for them, a clean drain at stop.

describe.each(['sqlite', 'postgres'] as const)('the worker and relay on their thread, on %s', (engine) => {
  let rig: Rig
  let pg: Postgres | undefined
  let fauxqs: Fauxqs | undefined
  beforeAll(async () => {
    let env: Record<string, string> = {}
    if (engine === 'postgres') {
      pg = await startPostgres()
      fauxqs = await startFauxqs()
      // The AWS SDK's default credential chain reads these; fauxqs accepts any.
      process.env.AWS_ACCESS_KEY_ID = 'test'
      process.env.AWS_SECRET_ACCESS_KEY = 'test'
      env = {
        DATABASE_URL: await pg.createDatabase('worker_thread'),
        AWS_REGION: 'us-east-1',
        SQS_ENDPOINT: fauxqs.endpoint,
        SQS_QUEUE_NAME: 'stark-events-thread',
      }
    }
    // On SQS the default (`auto`) is the thread; on the embedded queue it is asked for.
    const workerThread = engine === 'postgres' ? 'auto' : 'on'
    rig = await startRig({ payShare: 1, workerThread, env: { ...env, LOG_LEVEL: 'debug' } })
  }, 60_000)
  afterAll(async () => {
    await rig.stop()
    await fauxqs?.stop()
    await pg?.stop()
  })

  it('pays each credited invoice once, with its counters in /metrics and its log lines in the log', async () => {
    expect(rig.logs.some((l) => l.includes('worker and relay running on a worker thread'))).toBe(true)
    await rig.paybridge.issueInvoicesNow()
    const invoices = rig.emulator.invoices().length
    expect(invoices).toBeGreaterThanOrEqual(8)
    await waitFor('one transfer per invoice', () => rig.emulator.transfers().length === invoices, 30_000)
    const rows = await rig.paybridge.ledger.read.all<{ n: number }>('select count(*) as n from transfers')
    expect(rows[0]?.n).toBe(invoices)

    // Acked and sent on the thread, counted in this process's registry (a turn of the thread's loop later).
    const scrape = async () => (await fetch(`http://127.0.0.1:${rig.paybridge.port}/metrics`)).text()
    const acked = `paybridge_queue_acked_total{queue="${rig.paybridge.queue.name}"} ${invoices}`
    const sent = 'paybridge_bank_call_seconds_count{operation="create_transfers",status_class="2xx"}'
    await waitFor("every credit acked and the transfers' calls timed", async () => {
      const now = await scrape()
      return now.includes(acked) && now.includes(`${sent} `)
    })
    const text = await scrape()
    const value = (series: string) => sample(text, series)
    expect(value(sent)).toBeGreaterThan(0)
    expect(value(`paybridge_webhooks_total{source="starkbank",outcome="accepted"}`)).toBeGreaterThanOrEqual(
      invoices,
    )
    expect(rig.logs.some((l) => l.includes('"thread":"worker"') && l.includes('transfer created'))).toBe(true)
  })

  it('answers /readyz and the gap fill for the roles on its thread', async () => {
    const ready = await fetch(`http://127.0.0.1:${rig.paybridge.port}/readyz`)
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> }
    expect(ready.status).toBe(200)
    expect(body.checks.consumer?.ok).toBe(true)
    expect(body.checks.transferRelay?.ok).toBe(true)
    expect(await rig.paybridge.fillGaps()).toEqual({ seen: 0, recorded: 0, duplicates: 0, dead: 0 })
  })
})

describe('WORKER_THREAD=auto on the embedded queue', () => {
  it("keeps the worker and relay on the web role's event loop, which share the SQLite write lock", async () => {
    const rig = await startRig({ payShare: 1, workerThread: 'auto', env: { LOG_LEVEL: 'debug' } })
    try {
      await rig.paybridge.issueInvoicesNow()
      const invoices = rig.emulator.invoices().length
      await waitFor('one transfer per invoice', () => rig.emulator.transfers().length === invoices, 30_000)
      expect(rig.logs.some((l) => l.includes('"thread":"worker"'))).toBe(false)
      expect(rig.logs.some((l) => l.includes('worker and relay running on a worker thread'))).toBe(false)
    } finally {
      await rig.stop()
    }
  })
})

describe('a worker thread that dies', () => {
  const config = loadConfig({ DATABASE_PATH: ':memory:' })
  const noMetrics = new Proxy({}, { get: () => () => {} }) as Metrics

  it('is reported by `failed`, by its readiness checks and in the log', async () => {
    const logs: string[] = []
    const log = consoleLog({ level: 'debug', format: 'json', write: (line) => logs.push(line) })
    const roles = startWorkerThread({
      config,
      roles: ['worker', 'relay'],
      gapFillAtStart: false,
      log,
      metrics: noMetrics,
      entry: new URL('./support/dying-thread.ts', import.meta.url),
    })
    await roles.ready
    const why = await roles.failed
    expect(why).toContain('the worker thread hit a bug')
    expect(await roles.checks.consumer()).toBe(why)
    expect(await roles.checks.transferRelay()).toBe(why)
    await expect(roles.fillGaps()).rejects.toThrow('the worker thread hit a bug')
    expect(logs.some((l) => l.includes('about to fail') && l.includes('"thread":"worker"'))).toBe(true)
    expect(logs.some((l) => l.includes('"level":"error"') && l.includes('worker thread died'))).toBe(true)
    await roles.stop()
  })

  it('that cannot start makes the start fail with why', async () => {
    const log = consoleLog({ level: 'error', format: 'json', write: () => {} })
    const unreachable = loadConfig({
      DATABASE_PATH: '/proc/no-such-folder/ledger.sqlite',
      STARK_PROJECT_ID: '1',
      STARK_PRIVATE_KEY: generateKeyPair().privatePem,
    })
    await expect(
      startWorkerThread({
        config: unreachable,
        roles: ['worker'],
        gapFillAtStart: false,
        log,
        metrics: noMetrics,
      }).ready,
    ).rejects.toThrow(/worker thread did not start: .*no-such-folder/)
  })
})

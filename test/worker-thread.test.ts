import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { consoleLog } from '../src/adapters/console-log.ts'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { startupFailureOf } from '../src/adapters/startup-failure.ts'
import { loadConfig } from '../src/config.ts'
import { startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { startPaybridge } from '../src/paybridge.ts'
import type { Metrics } from '../src/ports/metrics.ts'
import { workerThreadRoles } from '../src/roles/worker-thread.ts'
import { type Fauxqs, startFauxqs } from './support/fauxqs.ts'
import { sample } from './support/metrics-sample.ts'
import { envFor, type Rig, startRig, tempDir } from './support/paybridge.ts'
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

describe('a worker thread that dies, hangs or fails', () => {
  const config = loadConfig({ DATABASE_PATH: ':memory:' })
  const noMetrics = new Proxy({}, { get: () => () => {} }) as Metrics
  const capture = () => {
    const lines: string[] = []
    return { lines, log: consoleLog({ level: 'debug', format: 'json', write: (line) => lines.push(line) }) }
  }
  const roles = (
    entry: string,
    log: ReturnType<typeof capture>['log'],
    more: { stopDeadlineMs?: number } = {},
  ) =>
    workerThreadRoles({
      config,
      roles: ['worker', 'relay'],
      gapFillAtStart: false,
      log,
      metrics: noMetrics,
      entry: new URL(`./support/${entry}`, import.meta.url),
      ...more,
    })

  it('is reported by `failed`, its readiness checks and the log, with what it said just before', async () => {
    const { lines, log } = capture()
    const dying = roles('dying-thread.ts', log)
    dying.start()
    await dying.ready
    const why = await dying.failed
    expect(why).toContain('the worker thread hit a bug')
    expect(await dying.checks.consumer()).toBe(why)
    expect(await dying.checks.transferRelay()).toBe(why)
    await expect(dying.fillGaps()).rejects.toThrow('the worker thread hit a bug')
    // Logged in the same turn as the error that killed the thread.
    expect(lines.some((l) => l.includes('about to fail') && l.includes('"thread":"worker"'))).toBe(true)
    expect(lines.some((l) => l.includes('"level":"error"') && l.includes('worker thread died'))).toBe(true)
    await dying.stop()
  })

  it('that spins is ended at the stop deadline, and says so', async () => {
    const { lines, log } = capture()
    const stuck = roles('stuck-thread.ts', log, { stopDeadlineMs: 500 })
    stuck.start()
    await stuck.ready
    await Bun.sleep(100)
    const started = Date.now()
    await stuck.stop()
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(lines.some((l) => l.includes('"level":"error"') && l.includes('did not stop in time'))).toBe(true)
    expect(await stuck.checks.consumer()).toBe('worker thread stopped')
  })

  it('asked to stop twice at once drains once, and neither waits for the deadline', async () => {
    const { lines, log } = capture()
    const slow = roles('slow-stop-thread.ts', log, { stopDeadlineMs: 3_000 })
    slow.start()
    await slow.ready
    const started = Date.now()
    await Promise.all([slow.stop(), slow.stop()])
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(lines.filter((l) => l.includes('stop received'))).toHaveLength(1)
    expect(lines.some((l) => l.includes('did not stop in time'))).toBe(false)
  })

  it('whose drain fails logs why at error level', async () => {
    const { lines, log } = capture()
    const failing = roles('failing-stop-thread.ts', log)
    failing.start()
    await failing.ready
    await failing.stop()
    expect(lines.some((l) => l.includes('"level":"error"') && l.includes('closing the ledger failed'))).toBe(
      true,
    )
  })

  it('that cannot start fails the start with why, named as main.ts names start-up failures, not as a death', async () => {
    const { lines, log } = capture()
    const unreachable = loadConfig({
      DATABASE_PATH: '/proc/no-such-folder/ledger.sqlite',
      STARK_PROJECT_ID: '1',
      STARK_PRIVATE_KEY: generateKeyPair().privatePem,
    })
    const never = workerThreadRoles({
      config: unreachable,
      roles: ['worker'],
      gapFillAtStart: false,
      log,
      metrics: noMetrics,
    })
    never.start()
    const err = await never.ready.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(String(err)).toMatch(/worker thread did not start: .*no-such-folder/)
    // main.ts names it as it would a failure on its own thread: one line for DATABASE_PATH, exit 2.
    expect(startupFailureOf(err, unreachable)?.message).toContain(
      'DATABASE_PATH: cannot open the ledger file /proc/no-such-folder/ledger.sqlite',
    )
    expect(lines.some((l) => l.includes('worker thread died'))).toBe(false)
  })
})

describe('a start whose web role cannot listen', () => {
  it('leaves no worker thread behind', async () => {
    const emulator = await startStarkBankEmulator({ port: 0 })
    const dir = tempDir()
    const taken = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const project = generateKeyPair()
    const lines: string[] = []
    const log = consoleLog({ level: 'debug', format: 'json', write: (line) => lines.push(line) })
    try {
      const config = loadConfig(
        envFor(emulator, project.privatePem, {
          DATABASE_PATH: join(dir.path, 'ledger.sqlite'),
          PORT: String(taken.port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'debug',
        }),
      )
      await expect(startPaybridge(config, { log, workerThread: 'on', scheduler: false })).rejects.toThrow()
      await Bun.sleep(1_000)
      expect(lines.filter((l) => l.includes('"thread":"worker"'))).toEqual([])
    } finally {
      taken.stop(true)
      await emulator.stop()
      dir.cleanup()
    }
  })
})

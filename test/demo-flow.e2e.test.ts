import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { consoleLog } from '../src/adapters/console-log.ts'
import { loadConfig } from '../src/config.ts'
import { type Paybridge, startPaybridge } from '../src/paybridge.ts'
import { type Fauxqs, startFauxqs } from './support/fauxqs.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { waitFor } from './support/wait.ts'

// `npm start` with no configuration: paybridge on its embedded Stark Bank, which pays the start-up
// batch and then moves each transfer on (created → processing → success, or failed for a share),
// each step a signed `transfer` webhook; and its Stripe forwarder posting a demo batch from the
// embedded queue to a local Stripe-processing stand-in. The ledger, `ledger …` and /admin show both.
// The transfer side runs on PostgreSQL too (queues on SQS there), with no Stark Bank credentials.

const ADMIN_TOKEN = 'demo-flow-admin-token-0001'
const ROOT = join(import.meta.dir, '..')

describe.each(['sqlite', 'postgres'] as const)('the embedded default flow on %s', (engine) => {
  const dir = tempDir('paybridge-demo-')
  const logs: string[] = []
  let paybridge: Paybridge
  let pg: Postgres | undefined
  let fauxqs: Fauxqs | undefined
  let ledgerEnv: Record<string, string> = { DATABASE_PATH: join(dir.path, 'ledger.sqlite') }

  beforeAll(async () => {
    if (engine === 'postgres') {
      pg = await startPostgres()
      fauxqs = await startFauxqs()
      // The AWS SDK's default credential chain reads these; fauxqs accepts any.
      process.env.AWS_ACCESS_KEY_ID = 'test'
      process.env.AWS_SECRET_ACCESS_KEY = 'test'
      ledgerEnv = {
        ...ledgerEnv,
        DATABASE_URL: await pg.createDatabase('demo_flow'),
        AWS_REGION: 'us-east-1',
        SQS_ENDPOINT: fauxqs.endpoint,
        SQS_QUEUE_NAME: 'stark-events-demo',
      }
    }
    const config = loadConfig({
      ...ledgerEnv,
      PORT: '0',
      ADMIN_TOKEN,
      RELAY_INTERVAL_MS: '50',
      EMULATOR_PAY_SHARE: '1',
      EMULATOR_PAY_DELAY_MS: '50',
      EMULATOR_TRANSFER_FAIL_SHARE: '0.5',
      EMULATOR_TRANSFER_SETTLE_MS: '300',
    })
    const log = consoleLog({ level: 'info', format: 'json', write: (line) => logs.push(line) })
    paybridge = await startPaybridge(config, { log })
  }, 60_000)
  afterAll(async () => {
    await paybridge.stop()
    await fauxqs?.stop()
    await pg?.stop()
    dir.cleanup()
  })

  it('ends with every transfer at its Stark Bank status, success or failed, in the ledger, `ledger transfers` and /admin', async () => {
    const emulator = paybridge.emulator
    if (!emulator) throw new Error('paybridge did not start its embedded Stark Bank')
    const bankStatuses = () =>
      paybridge.ledger.read.all<{ stark_id: string | null; bank_status: string | null }>(
        'select stark_id, bank_status from transfers',
      )
    await waitFor(
      'every invoice of the start-up batch paid out and its transfer settled',
      async () => {
        const invoices = emulator.invoices()
        const rows = await bankStatuses()
        return (
          invoices.length >= 8 &&
          invoices.every((i) => i.status === 'paid') &&
          rows.length === invoices.length &&
          rows.every((r) => r.bank_status === 'success' || r.bank_status === 'failed')
        )
      },
      30_000,
    )
    const atBank = new Map(emulator.transfers().map((t) => [t.id, t.status]))
    const rows = await bankStatuses()
    expect(rows.length).toBe(atBank.size)
    for (const row of rows) expect(row.bank_status).toBe(atBank.get(row.stark_id ?? '') ?? 'unknown at bank')
    const succeeded = rows.filter((r) => r.bank_status === 'success').length
    const failed = rows.length - succeeded

    // Every step was a signed webhook paybridge took: created, processing, then the end. The ledger
    // can be ahead of the emulator's delivery record (the worker records before the answer is read).
    const transferEvents = () => emulator.events().filter((e) => e.subscription === 'transfer')
    await waitFor('every transfer webhook answered 200', () =>
      transferEvents().every((e) => e.attempts.at(-1)?.status === 200),
    )
    expect(
      transferEvents()
        .map((e) => String(e.log.type))
        .sort(),
    ).toEqual(
      [
        ...rows.map(() => 'created'),
        ...rows.map(() => 'processing'),
        ...rows.map((r) => r.bank_status ?? ''),
      ].sort(),
    )

    const cli = Bun.spawnSync([process.execPath, 'run', 'src/main.ts', 'ledger', 'transfers', '--json'], {
      cwd: ROOT,
      env: { ...process.env, ...ledgerEnv },
    })
    expect(cli.exitCode).toBe(0)
    const listed = JSON.parse(cli.stdout.toString()) as { stark_id: string; bank_status: string }[]
    expect(Object.fromEntries(listed.map((r) => [r.stark_id, r.bank_status]))).toEqual(
      Object.fromEntries(atBank),
    )

    const status = await fetch(`http://127.0.0.1:${paybridge.port}/admin/api/status`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect(status.status).toBe(200)
    const { flow } = (await status.json()) as { flow: { confirmed: number; failed: number } }
    expect(flow).toMatchObject({ confirmed: succeeded, failed })
  })

  // On PostgreSQL the Stripe queue must be on SQS, configured: no demo there.
  if (engine !== 'sqlite') return
  it('forwards the demo Stripe batch (raw, EventBridge, SNS) to the local stand-in once each, every signature good', async () => {
    const standIn = paybridge.stripeService
    if (!standIn) throw new Error('paybridge did not start its Stripe-processing stand-in')
    const forwards = () =>
      paybridge.ledger.read.all<{ id: string; shape: string; status: string }>(
        'select id, shape, status from forwards order by shape',
      )
    await waitFor('the demo batch delivered', async () => {
      const rows = await forwards()
      return rows.length === 3 && rows.every((r) => r.status === 'delivered')
    })
    const rows = await forwards()
    expect(rows.map((r) => r.shape)).toEqual(['eventbridge', 'raw', 'sns'])
    const received = standIn.deliveries()
    expect(received.every((d) => d.refused === undefined)).toBe(true)
    expect(received.map((d) => d.eventId).sort()).toEqual(rows.map((r) => r.id).sort())

    const banner = logs
      .map((l) => JSON.parse(l) as { level: string; msg: string })
      .filter((l) => l.level === 'warn')
    expect(banner.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`LOCAL STAND-IN at ${standIn.url}/api/v1/Stripe/Webhook`),
        expect.stringContaining('Demo batch: 3 Stripe events (raw, EventBridge, SNS)'),
      ]),
    )
    const status = await fetch(`http://127.0.0.1:${paybridge.port}/admin/api/status`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    const { stripe } = (await status.json()) as { stripe: { received: number; delivered: number } }
    expect(stripe).toMatchObject({ received: 3, delivered: 3 })
  })
})

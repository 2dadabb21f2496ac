import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { SQL } from 'bun'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { runTag } from '../src/domain/invoice-batch.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { type Fauxqs, startFauxqs } from './support/fauxqs.ts'
import { envFor, PROJECT_ID, tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { freePort, type PaybridgeProcess, spawnPaybridge } from './support/process.ts'
import { waitFor } from './support/wait.ts'

// paybridge scaled out on one PostgreSQL ledger and one SQS queue (fauxqs): three processes, which
// between them run two web servers, two workers, two transfer relays and two schedulers. Stark Bank's
// webhooks are spread over both web processes. Every credited invoice gets exactly one transfer, and
// every schedule period exactly one run, issued once.

const PERIOD_S = 3
const PERIODS = 4

/** Forwards each webhook to the next web process in turn, raw body and headers unchanged. */
function roundRobin(targets: () => string[]) {
  let next = 0
  return Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const urls = targets()
      const url = urls[next++ % urls.length]
      if (!url) return new Response('no web process yet', { status: 503 })
      const headers = new Headers(req.headers)
      headers.delete('host')
      return fetch(`${url}${new URL(req.url).pathname}`, {
        method: req.method,
        headers,
        body: await req.arrayBuffer(),
      })
    },
  })
}

describe('paybridge scaled out on one PostgreSQL ledger', () => {
  let pg: Postgres
  let db: SQL
  let fauxqs: Fauxqs
  let emulator: StarkBankEmulator
  let proxy: ReturnType<typeof roundRobin>
  const dir = tempDir('paybridge-pg-scale-')
  const procs: PaybridgeProcess[] = []
  const webs: string[] = []
  let env: Record<string, string | undefined>

  beforeAll(async () => {
    pg = await startPostgres()
    const url = await pg.createDatabase('scale_e2e')
    db = new SQL({ url, max: 2 })
    fauxqs = await startFauxqs()
    const project = generateKeyPair()
    // The test pays invoices itself, so it knows which ones were credited.
    emulator = await startStarkBankEmulator({
      port: 0,
      projects: { [PROJECT_ID]: project.publicPem },
      payShare: 0,
      webhookRetryDelaysMs: [300, 1_000, 2_000],
    })
    proxy = roundRobin(() => webs)
    emulator.setWebhookUrl(`http://127.0.0.1:${proxy.port}/webhook/starkbank`)
    env = {
      ...process.env,
      ...envFor(emulator, project.privatePem, {
        DATABASE_URL: url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        SQS_ENDPOINT: fauxqs.endpoint,
        SQS_QUEUE_NAME: 'stark-events-pg-scale',
        INVOICE_SCHEDULE: `*/${PERIOD_S} * * * * *`,
        LOG_LEVEL: 'info',
      }),
    }
  }, 60_000)

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.child.exited))
    proxy?.stop(true)
    await emulator?.stop()
    await fauxqs?.stop()
    await db?.close()
    await pg?.stop()
    dir.cleanup()
  })

  it('gives every credited invoice exactly one transfer and every schedule period exactly one run', async () => {
    const start = (name: string, roles: string[], port = 0) => {
      // Each process has its own SQLite path: anything still shared through SQLite would show.
      const extra = { PORT: String(port), DATABASE_PATH: join(dir.path, `${name}.sqlite`) }
      const p = spawnPaybridge(roles, { ...env, ...extra }, join(dir.path, `${name}.log`))
      procs.push(p)
      return p
    }
    // All three start at once and migrate the empty database together.
    const webScheduler = start('web-scheduler', ['web', 'scheduler'], freePort())
    const workerRelay = start('worker-relay', ['worker', 'relay'])
    const everything = start('all-roles', ['web', 'worker', 'relay', 'scheduler'], freePort())
    for (const p of [webScheduler, everything]) webs.push(`http://127.0.0.1:${await p.port()}`)

    type Run = { id: string; slot: string; status: string; invoice_count: number }
    const runs = async () =>
      (await db`select id, slot, status, invoice_count from scheduler_runs where slot like 'sched:%' order by slot`) as Run[]
    await waitFor(
      `${PERIODS} scheduled runs issued`,
      async () => {
        const issued = (await runs()).filter((r) => r.status === 'issued')
        return issued.length >= PERIODS
      },
      30_000,
    )

    // Pay every invoice issued so far, a few at a time; runs issued later stay unpaid.
    const paid = emulator.invoices().map((i) => i.id)
    for (const [i, id] of paid.entries()) {
      expect(emulator.payInvoice(id)).toBeDefined()
      if (i % 5 === 4) await Bun.sleep(20)
    }
    const transfersFor = (invoiceId: string) =>
      emulator.transfers().filter((t) => t.externalId === `paybridge-invoice-${invoiceId}`)
    await waitFor(
      'a transfer for every paid invoice',
      () => paid.every((id) => transfersFor(id).length >= 1),
      30_000,
    )
    await Bun.sleep(1_000)

    // Exactly one transfer per credited invoice, none for the rest.
    for (const id of paid) expect(transfersFor(id).length).toBe(1)
    expect(emulator.transfers().length).toBe(paid.length)
    const [ledger] = (await db`select
        (select count(*) from transfers where status = 'created')::int as created,
        (select count(*) from invoices where status = 'credited')::int as credited,
        (select count(*) from outbox where status <> 'done')::int as open`) as {
      created: number
      credited: number
      open: number
    }[]
    expect(ledger).toEqual({ created: paid.length, credited: paid.length, open: 0 })

    // One run per period, back to back, each issued once at Stark Bank.
    const scheduled = (await runs()).filter((r) => r.status === 'issued')
    const slots = scheduled.map((r) => Date.parse(r.slot.slice('sched:'.length)))
    expect(new Set(scheduled.map((r) => r.slot)).size).toBe(scheduled.length)
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBe(PERIOD_S * 1000)
    for (const run of scheduled) {
      const atBank = emulator.invoices().filter((inv) => inv.tags.includes(runTag(run.id)))
      expect(atBank.length).toBe(run.invoice_count)
    }

    // Each process did only its part, and both of each did some of it.
    const count = (text: string, what: string) => text.split('\n').filter((l) => l.includes(what)).length
    const [ws, wr, all] = await Promise.all([webScheduler.logs(), workerRelay.logs(), everything.logs()])
    expect(count(ws, 'webhook accepted')).toBeGreaterThan(0)
    expect(count(all, 'webhook accepted')).toBeGreaterThan(0)
    expect(count(ws, 'invoice credited') + count(ws, 'transfer created')).toBe(0)
    expect(count(wr, 'invoice credited') + count(all, 'invoice credited')).toBe(paid.length)
    expect(count(wr, 'transfer created') + count(all, 'transfer created')).toBe(paid.length)
    expect(count(wr, 'invoice run planned')).toBe(0)
    expect(count(ws, 'invoice run issued') + count(all, 'invoice run issued')).toBeGreaterThanOrEqual(PERIODS)
    for (const log of [ws, wr, all]) expect(log).not.toMatch(/ ERROR /)
  }, 120_000)
})

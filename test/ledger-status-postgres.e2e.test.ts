import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { StatusSnapshot } from '../src/app/ledger-status.ts'
import { transferIdFor } from '../src/domain/transfer.ts'
import { type Fauxqs, startFauxqs } from './support/fauxqs.ts'
import { type PlantedStores, plantLedgerOn } from './support/ledger-fixture.ts'
import { sample } from './support/metrics-sample.ts'
import { type Rig, startRig } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

// A paybridge whose ledger is on PostgreSQL (queues on SQS) reports that ledger in /admin and
// /metrics: its counts, and a reconciliation that sees its mismatches (it used to read the empty
// SQLite file beside it and report a balanced ledger).

const TOKEN = 'admin-token-for-tests-3f9a'
const HOUR = 3_600_000

describe('a paybridge on PostgreSQL and SQS', () => {
  let server: Postgres
  let fauxqs: Fauxqs
  let planted: PlantedStores
  let rig: Rig
  let base: string

  beforeAll(async () => {
    server = await startPostgres()
    fauxqs = await startFauxqs()
    process.env.AWS_ACCESS_KEY_ID = 'test'
    process.env.AWS_SECRET_ACCESS_KEY = 'test'
    planted = await plantLedgerOn('postgres', server)
    // inv-d's transfer was deleted (the planted missing transfer): credit it an hour ago, so the
    // reconciliation of the last days sees it.
    await planted.exec('UPDATE invoices SET credited_at = ? WHERE stark_id = ?', [Date.now() - HOUR, 'sd'])
    rig = await startRig({
      env: {
        DATABASE_URL: planted.url as string,
        ADMIN_TOKEN: TOKEN,
        AWS_REGION: 'us-east-1',
        SQS_ENDPOINT: fauxqs.endpoint,
        SQS_QUEUE_NAME: 'status-on-postgres',
      },
    })
    base = `http://127.0.0.1:${rig.paybridge.port}`
  }, 60_000)
  afterAll(async () => {
    await rig?.stop()
    await planted?.cleanup()
    await fauxqs?.stop()
    await server?.stop()
  })

  const scrape = async () => (await fetch(`${base}/metrics`)).text()

  it("reports the PostgreSQL ledger's mismatch in the reconciliation gauges, not a balanced ledger", async () => {
    const deadline = Date.now() + 15_000
    let text = await scrape()
    while (!sample(text, 'paybridge_reconciliation_timestamp_seconds') && Date.now() < deadline) {
      await Bun.sleep(100)
      text = await scrape()
    }
    expect(sample(text, 'paybridge_reconciliation_timestamp_seconds')).toBeGreaterThan(0)
    expect(sample(text, 'paybridge_reconciliation_mismatches')).toBe(1)
    expect(sample(text, 'paybridge_reconciliation_ok')).toBe(0)
  }, 30_000)

  it("shows the PostgreSQL ledger's numbers in /admin/api/status and the ledger gauges", async () => {
    const res = await fetch(`${base}/admin/api/status`, { headers: { Authorization: `Bearer ${TOKEN}` } })
    expect(res.status).toBe(200)
    const status = (await res.json()) as StatusSnapshot
    expect(status.flow).toEqual({
      issued: 7,
      credited: 6,
      queued: 5,
      created: 4,
      confirmed: 2,
      pending: 0,
      held: 0,
      failed: 1,
      dead: 1,
    })
    expect(status.stripe).toEqual({ received: 2, delivered: 1, pending: 0, dead: 1 })
    expect(status.reconciliation.ok).toBe(false)
    expect(status.reconciliation.mismatches).toEqual([
      expect.objectContaining({ kind: 'missing-transfer', starkId: 'sd' }),
    ])
    expect(status.dead.map((d) => d.id).sort()).toEqual(
      [transferIdFor('sf'), 'evt_bad', expect.any(String)].sort(),
    )
    const text = await scrape()
    expect(sample(text, 'paybridge_transfers{status="created"}')).toBe(4)
    expect(sample(text, 'paybridge_transfers{status="dead"}')).toBe(1)
    expect(sample(text, 'paybridge_transfers_bank_status{bank_status="failed"}')).toBe(1)
    expect(sample(text, 'paybridge_outbox_rows{kind="forward",status="dead"}')).toBe(1)
    expect(sample(text, 'paybridge_invoices{status="credited"}')).toBe(6)
    expect(sample(text, 'paybridge_dead_letters{queue="stark-events"}')).toBe(1)
    // The queues are on SQS: no embedded queue to report.
    expect(text).not.toContain('paybridge_queue_messages{')
  })
})

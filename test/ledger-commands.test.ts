import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ledgerCommand } from '../src/adapters/cli/ledger-commands.ts'
import type { OpenLedger } from '../src/adapters/ledger/open.ts'
import { reconcileLedger } from '../src/app/reconcile-ledger.ts'
import type { Reconciliation } from '../src/domain/reconcile.ts'
import type { ReconciliationJson } from '../src/domain/reconcile-report.ts'
import type { ReconcileOptions } from '../src/domain/reconcile-window.ts'
import { type LedgerViews, QUERY_VIEWS, type Trace } from '../src/ports/ledger-views.ts'
import {
  DAY,
  NOW,
  type PlantedLedger,
  PREVIOUS_DAY,
  plantLedger,
  plantPostgresLedger,
  T,
} from './support/ledger-fixture.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { runCli } from './support/process.ts'

// The operator's `ledger` views, trace and reconcile, on the same planted ledger on both engines.

let sqlite: PlantedLedger
let server: Postgres
let pgStores: OpenLedger
let pgUrl: string
beforeAll(async () => {
  ;[sqlite, server] = await Promise.all([plantLedger(), startPostgres()])
  pgUrl = await server.createDatabase('ledger_commands')
  pgStores = await plantPostgresLedger(pgUrl)
}, 60_000)
afterAll(async () => {
  await Promise.all([sqlite?.cleanup(), pgStores?.close()])
  await server?.stop()
})

interface Engine {
  name: 'sqlite' | 'postgres'
  views(): LedgerViews
  reconcile(options: ReconcileOptions): Promise<Reconciliation>
}

const ENGINES: Engine[] = [
  {
    name: 'sqlite',
    views: () => sqlite.stores.views,
    reconcile: (options) => reconcileLedger(sqlite.stores.views)(options),
  },
  {
    name: 'postgres',
    views: () => pgStores.views,
    reconcile: (options) => reconcileLedger(pgStores.views)(options),
  },
]

for (const engine of ENGINES) {
  const views = () => engine.views()
  const traceItem = (id: string) => views().trace(id)
  const ledgerRows: LedgerViews['rows'] = (view, filter) => views().rows(view, filter)
  const reconcile = engine.reconcile

  /** Runs `ledger …` and captures what it printed. */
  async function run(...args: string[]) {
    let out = ''
    let err = ''
    const code = await ledgerCommand(args, {
      views: views(),
      reconcile,
      out: (t) => (out += t),
      err: (t) => (err += t),
      clock: () => NOW,
    })
    return { code, out, err }
  }

  describe(`on ${engine.name}`, () => {
    describe('ledger trace', () => {
      const lineage: string[] = ['run', 'invoice', 'event', 'outbox', 'transfer', 'event']

      it('tells one invoice story from any of its ids: event → invoice → outbox → transfer → confirmation', async () => {
        for (const id of ['evt-a', 'inv-a', 'sa', 'paybridge-invoice-sa', 'bank-ta', 'evt-ta']) {
          const trace = await traceItem(id)
          expect({ id, steps: trace.steps.map((s): string => s.step) }).toEqual({ id, steps: lineage })
        }
        const trace = await traceItem('sa')
        expect(trace.found).toBe('invoice')
        expect(trace.steps.map((s) => `${s.step} ${s.id} ${s.status}`)).toEqual([
          'run run-1 issued',
          'invoice inv-a credited',
          'event evt-a credited',
          'outbox transfer:paybridge-invoice-sa done',
          'transfer paybridge-invoice-sa created',
          'event evt-ta success',
        ])
        expect(trace.steps[4]?.detail).toEqual({
          amount_cents: 9950,
          stark_id: 'bank-ta',
          bank_status: 'success',
        })
        expect((await traceItem('evt-ta')).found).toBe('stark-event')
      })

      it('shows a credited invoice whose transfer is missing, and a dead transfer with its reason', async () => {
        expect((await traceItem('sd')).steps.map((s) => s.step)).toEqual(['run', 'invoice', 'event'])
        const dead = await traceItem('paybridge-invoice-sf')
        expect(dead.found).toBe('transfer')
        expect(dead.steps.find((s) => s.step === 'outbox')).toMatchObject({
          status: 'dead',
          detail: { error: 'invalidAccountNumber: the account does not exist' },
        })
      })

      it('follows a Stripe event to its forward and outbox row', async () => {
        const trace = await traceItem('evt_bad')
        expect(trace.found).toBe('stripe-event')
        expect(trace.steps.map((s) => `${s.step} ${s.status}`)).toEqual([
          'event charge.succeeded',
          'forward dead',
          'outbox dead',
        ])
        expect(trace.steps[1]?.detail).toMatchObject({
          attempts: 1,
          last_status: 400,
          error: 'HTTP 400: bad payload',
        })
      })

      it('finds dead letters by message id', async () => {
        expect(await traceItem('msg-poison')).toMatchObject({
          found: 'message',
          steps: [{ step: 'dead-letter', detail: { queue: 'stark-events', reason: 'body is not JSON' } }],
        })
      })

      // The embedded queue keeps its messages in the SQLite file; with PostgreSQL the queue is SQS.
      if (engine.name === 'sqlite') {
        it('finds waiting messages of the embedded queue by message id', async () => {
          expect((await traceItem('msg-waiting')).steps[0]).toMatchObject({
            step: 'queued',
            status: 'waiting',
          })
        })
      } else {
        it('finds no embedded queue on PostgreSQL: a message id in no ledger table is unknown', async () => {
          expect(await traceItem('msg-waiting')).toEqual({ query: 'msg-waiting', found: null, steps: [] })
        })
      }

      it('prints the lineage as lines, exits 1 for an id the ledger does not know', async () => {
        const found = await run('trace', 'sb')
        expect(found.code).toBe(0)
        expect(found.out).toContain('trace of sb (invoice)')
        expect(found.out).toMatch(
          /transfer +paybridge-invoice-sb +created +2026-03-01T10:01:11\.000Z +amount="R\$ 190\.00"/,
        )
        const json = JSON.parse((await run('trace', 'evt_ok', '--json')).out)
        expect(json.steps[1]).toMatchObject({ step: 'forward', status: 'delivered' })
        const missing = await run('trace', 'nope')
        expect(missing).toMatchObject({ code: 1, out: 'nothing in the ledger mentions "nope"\n' })
      })
    })

    describe('ledger reconcile', () => {
      it('finds every planted mismatch on the day, and a clean day before it', async () => {
        const result = await reconcile({ now: NOW })
        expect(result.ok).toBe(false)
        expect(result.days.map((d) => [d.day, d.ok])).toEqual([
          [PREVIOUS_DAY, true],
          [DAY, false],
        ])
        expect(result.days[1]).toMatchObject({
          invoices: 5,
          credited: 9950 + 19900 + 5000 + 6930 + 3960,
          transfersCreated: 9950 + 19000 + 5000,
          transfersConfirmed: 9950,
          mismatches: 4,
        })
        expect(result.mismatches.map((m) => [m.kind, 'invoiceId' in m ? m.invoiceId : ''])).toEqual([
          ['amount-differs', 'inv-b'],
          ['transfer-failed', 'inv-c'],
          ['missing-transfer', 'inv-d'],
          ['transfer-dead', 'inv-f'],
        ])
      })

      it('reconciles one day on request', async () => {
        expect(await reconcile({ day: PREVIOUS_DAY, now: NOW })).toMatchObject({
          ok: true,
          mismatches: [],
          days: [{ day: PREVIOUS_DAY, credited: 2970, transfersCreated: 2970, transfersConfirmed: 2970 }],
        })
        expect((await reconcile({ day: '2026-01-01', now: NOW })).days).toEqual([
          expect.objectContaining({ day: '2026-01-01', invoices: 0, ok: true }),
        ])
      })

      it('exits 1 on a mismatch and 0 on a clean day, so it can run from cron', async () => {
        const bad = await run('reconcile')
        expect(bad.code).toBe(1)
        expect(bad.out).toContain('NOT reconciled: 4 mismatch(es)')
        expect(bad.out).toContain('2026-03-01 invoice inv-d (sd) credited R$ 69.30 but has no transfer')
        expect(bad.out).toContain(
          'transfer paybridge-invoice-sc of R$ 50.00 for invoice inv-c failed at Stark Bank',
        )
        const good = await run('reconcile', '--day', PREVIOUS_DAY)
        expect(good.code).toBe(0)
        expect(good.out).toContain('reconciled: every credited invoice has its transfer')
        const json = JSON.parse((await run('reconcile', '--day', DAY, '--json')).out) as ReconciliationJson
        expect(json.mismatches).toHaveLength(4)
        expect((await run('reconcile', '--day', '2026-02-30')).code).toBe(2)
      })
    })

    describe('money and time forms', () => {
      const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

      it('prints tables with money as R$ and times as ISO 8601 UTC', async () => {
        const invoices = await run('invoices')
        expect(invoices.out.split('\n')[0]).toMatch(/^invoice +stark_id +status +amount +paid +fee +name /)
        expect(invoices.out).toMatch(
          /^inv-b +sb +credited +R\$ 200\.00 +R\$ 200\.00 +R\$ 1\.00 +Payer inv-b +[\d.-]+ +2026-03-01T10:01:01\.000Z$/m,
        )
        // An invoice never credited has no paid amount, fee nor credit time: blank cells.
        expect(invoices.out).toMatch(/^inv-e +se +issued +R\$ 60\.00 +Payer inv-e +[\d.-]+$/m)
        const transfers = await run('transfers')
        expect(transfers.out).toMatch(
          /^paybridge-invoice-sb +sb +R\$ 190\.00 +created +bank-tb +processing +2026-03-01T10:01:11\.000Z$/m,
        )
        expect(transfers.out).not.toContain('_cents')
      })

      it('prints JSON views with integer cents under _cents fields and ISO 8601 UTC times', async () => {
        const invoices = JSON.parse((await run('invoices', '--json')).out) as Record<string, unknown>[]
        expect(invoices.find((r) => r.invoice === 'inv-b')).toEqual({
          invoice: 'inv-b',
          stark_id: 'sb',
          status: 'credited',
          amount_cents: 20000,
          paid_cents: 20000,
          fee_cents: 100,
          name: 'Payer inv-b',
          tax_id: expect.any(String),
          credited: '2026-03-01T10:01:01.000Z',
        })
        expect(invoices.find((r) => r.invoice === 'inv-e')).toMatchObject({
          amount_cents: 6000,
          paid_cents: null,
          fee_cents: null,
          credited: '',
        })
        const transfers = JSON.parse((await run('transfers', '--json')).out) as Record<string, unknown>[]
        expect(transfers.find((r) => r.transfer === 'paybridge-invoice-sb')).toMatchObject({
          amount_cents: 19000,
          updated: '2026-03-01T10:01:11.000Z',
        })
        for (const view of QUERY_VIEWS) {
          const rows = JSON.parse((await run(view, '--json', '--limit', '100')).out) as Record<
            string,
            unknown
          >[]
          for (const row of rows)
            for (const [key, value] of Object.entries(row)) {
              if (key.endsWith('_cents'))
                expect({
                  view,
                  key,
                  value,
                  cents: value === null || Number.isSafeInteger(value),
                }).toMatchObject({
                  cents: true,
                })
              else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value))
                expect({ view, key, value }).toEqual({ view, key, value: expect.stringMatching(ISO_UTC) })
            }
        }
      })

      it('prints the reconciliation as R$ for people and as integer cents under …Cents fields in JSON', async () => {
        const text = (await run('reconcile', '--day', DAY)).out
        expect(text).toMatch(
          /^2026-03-01 +5 +R\$ 457\.40 +R\$ 339\.50 +R\$ 99\.50 +R\$ 0\.00 +R\$ 0\.00 +4 +NO$/m,
        )
        expect(text).toContain(
          'invoice inv-b credited R$ 199.00 but transfer paybridge-invoice-sb is R$ 190.00',
        )
        const json = JSON.parse((await run('reconcile', '--day', DAY, '--json')).out) as ReconciliationJson
        expect(json.days).toEqual([
          {
            day: DAY,
            invoices: 5,
            creditedCents: 45_740,
            transfersCreatedCents: 33_950,
            transfersConfirmedCents: 9950,
            pendingCents: 0,
            heldCents: 0,
            mismatches: 4,
            ok: false,
          },
        ])
        expect(json.mismatches[0]).toEqual({
          kind: 'amount-differs',
          day: DAY,
          invoiceId: 'inv-b',
          transferId: 'paybridge-invoice-sb',
          creditedCents: 19_900,
          transferredCents: 19_000,
        })
        expect(json.mismatches[3]).toMatchObject({ kind: 'transfer-dead', amountCents: 3960 })
      })

      it('prints trace JSON with ISO 8601 UTC times and integer cents under _cents fields', async () => {
        const trace = JSON.parse((await run('trace', 'sb', '--json')).out) as Trace
        expect(trace.steps.map((s) => [s.step, s.at])).toEqual([
          ['run', '2026-03-01T10:00:00.000Z'],
          ['invoice', '2026-03-01T10:01:01.000Z'],
          ['event', '2026-03-01T10:01:01.000Z'],
          ['outbox', '2026-03-01T10:01:11.000Z'],
          ['transfer', '2026-03-01T10:01:11.000Z'],
        ])
        expect(trace.steps[1]?.detail).toEqual({ stark_id: 'sb', amount_cents: 20000, fee_cents: 100 })
        expect(trace.steps[4]?.detail).toMatchObject({ amount_cents: 19000 })
        // The outcome written with the credit names its amount as people read it.
        expect(trace.steps[2]?.detail.outcome).toBe('transfer of R$ 199.00 planned')
      })
    })

    describe('ledger views with filters', () => {
      it('filters transfers by paybridge or Stark Bank status', async () => {
        expect((await ledgerRows('transfers', { status: 'failed' })).map((r) => r.transfer)).toEqual([
          'paybridge-invoice-sc',
        ])
        expect((await ledgerRows('transfers', { status: 'dead' })).map((r) => r.transfer)).toEqual([
          'paybridge-invoice-sf',
        ])
      })

      it('filters by time and status together, and prints JSON for scripts', async () => {
        const since = await run('invoices', '--since', DAY, '--status', 'credited', '--json')
        expect(since.code).toBe(0)
        expect((JSON.parse(since.out) as { invoice: string }[]).map((r) => r.invoice).sort()).toEqual([
          'inv-a',
          'inv-b',
          'inv-c',
          'inv-d',
          'inv-f',
        ])
        expect(
          JSON.parse((await run('events', '--since', new Date(T + 120_000).toISOString(), '--json')).out),
        ).toHaveLength(4)
        const ago = await run('forwards', '--since', '2d', '--status', 'dead')
        expect(ago.out).toContain('evt_bad')
        expect(ago.out).not.toContain('evt_ok')
      })

      it('reads --since in seconds too, as `forwards replay --since` does', async () => {
        const recent = await run('dead-letters', '--since', `${(NOW - T) / 1000 - 1}s`, '--json')
        expect(recent.code).toBe(0)
        expect(JSON.parse(recent.out)).toEqual([expect.objectContaining({ message: 'msg-poison' })])
        expect(JSON.parse((await run('dead-letters', '--since', '60s', '--json')).out)).toEqual([])
      })

      it('refuses unknown views, bad limits and unreadable times with usage (exit 2)', async () => {
        expect((await run('nope')).code).toBe(2)
        expect((await run('runs', '--limit', '0')).code).toBe(2)
        const bad = await run('runs', '--since', 'yesterday')
        expect(bad.code).toBe(2)
        expect(bad.err).toContain('--since cannot read "yesterday"')
      })
    })
  })
}

describe('the same ledger on SQLite and PostgreSQL', () => {
  it('shows every view and every trace alike', async () => {
    for (const view of QUERY_VIEWS) {
      const rows = await sqlite.stores.views.rows(view, { limit: 100 })
      expect(rows.length).toBeGreaterThan(0)
      expect({ view, rows: await pgStores.views.rows(view, { limit: 100 }) }).toEqual({ view, rows })
    }
    for (const id of [
      'evt-a',
      'sa',
      'bank-tb',
      'paybridge-invoice-sf',
      'run-1',
      'evt_ok',
      'msg-poison',
      'nope',
    ]) {
      const trace = await sqlite.stores.views.trace(id)
      expect(await pgStores.views.trace(id)).toEqual(trace)
    }
  })

  it('prints the same `ledger transfers --json` and `ledger trace` through the real CLI with DATABASE_URL', async () => {
    const onPostgres = {
      DATABASE_URL: pgUrl,
      SQS_QUEUE_NAME: 'stark-events',
      AWS_REGION: 'us-east-1',
      // Any SQLite file opened would appear here; none may be.
      DATABASE_PATH: join(sqlite.ledger.path, '..', 'must-not-exist', 'ledger.sqlite'),
    }
    const onSqlite = { DATABASE_PATH: sqlite.ledger.path }
    for (const args of [
      ['ledger', 'transfers', '--json'],
      ['ledger', 'trace', 'sa'],
      ['ledger', 'trace', 'evt_bad', '--json'],
    ]) {
      const [pg, file] = await Promise.all([runCli(args, onPostgres), runCli(args, onSqlite)])
      expect({ args, code: pg.code, stderr: pg.stderr }).toEqual({ args, code: 0, stderr: '' })
      expect(file.code).toBe(0)
      expect(pg.stdout).toBe(file.stdout)
    }
    const transfers = JSON.parse((await runCli(['ledger', 'transfers', '--json'], onPostgres)).stdout)
    expect(transfers.map((t: { transfer: string }) => t.transfer)).toContain('paybridge-invoice-sa')
    expect(existsSync(onPostgres.DATABASE_PATH)).toBe(false)
  }, 60_000)
})

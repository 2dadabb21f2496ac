import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { ledgerCommand } from '../src/adapters/cli/ledger-commands.ts'
import { ledgerRows } from '../src/adapters/ledger/sqlite/ledger-query.ts'
import { traceItem } from '../src/adapters/ledger/sqlite/ledger-trace.ts'
import { reconcile } from '../src/adapters/ledger/sqlite/reconcile.ts'
import type { Reconciliation } from '../src/domain/reconcile.ts'
import { DAY, NOW, type PlantedLedger, PREVIOUS_DAY, plantLedger, T } from './support/ledger-fixture.ts'

let planted: PlantedLedger
beforeAll(async () => {
  planted = await plantLedger()
})
afterAll(() => planted.cleanup())

/** Runs `ledger …` and captures what it printed. */
function run(...args: string[]) {
  let out = ''
  let err = ''
  const code = ledgerCommand(args, {
    ledger: planted.ledger,
    out: (t) => (out += t),
    err: (t) => (err += t),
    clock: () => NOW,
  })
  return { code, out, err }
}

describe('ledger trace', () => {
  const lineage: string[] = ['run', 'invoice', 'event', 'outbox', 'transfer', 'event']

  it('tells one invoice story from any of its ids: event → invoice → outbox → transfer → confirmation', () => {
    for (const id of ['evt-a', 'inv-a', 'sa', 'paybridge-invoice-sa', 'bank-ta', 'evt-ta']) {
      const trace = traceItem(planted.ledger, id)
      expect({ id, steps: trace.steps.map((s): string => s.step) }).toEqual({ id, steps: lineage })
    }
    const trace = traceItem(planted.ledger, 'sa')
    expect(trace.found).toBe('invoice')
    expect(trace.steps.map((s) => `${s.step} ${s.id} ${s.status}`)).toEqual([
      'run run-1 issued',
      'invoice inv-a credited',
      'event evt-a credited',
      'outbox transfer:paybridge-invoice-sa done',
      'transfer paybridge-invoice-sa created',
      'event evt-ta success',
    ])
    expect(trace.steps[4]?.detail).toEqual({ amount: '99.50', stark_id: 'bank-ta', bank_status: 'success' })
    expect(traceItem(planted.ledger, 'evt-ta').found).toBe('stark-event')
  })

  it('shows a credited invoice whose transfer is missing, and a dead transfer with its reason', () => {
    expect(traceItem(planted.ledger, 'sd').steps.map((s) => s.step)).toEqual(['run', 'invoice', 'event'])
    const dead = traceItem(planted.ledger, 'paybridge-invoice-sf')
    expect(dead.found).toBe('transfer')
    expect(dead.steps.find((s) => s.step === 'outbox')).toMatchObject({
      status: 'dead',
      detail: { error: 'invalidAccountNumber: the account does not exist' },
    })
  })

  it('follows a Stripe event to its forward and outbox row', () => {
    const trace = traceItem(planted.ledger, 'evt_bad')
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

  it('finds dead letters and waiting messages by message id', () => {
    expect(traceItem(planted.ledger, 'msg-poison')).toMatchObject({
      found: 'message',
      steps: [{ step: 'dead-letter', detail: { queue: 'stark-events', reason: 'body is not JSON' } }],
    })
    expect(traceItem(planted.ledger, 'msg-waiting').steps[0]).toMatchObject({
      step: 'queued',
      status: 'waiting',
    })
  })

  it('prints the lineage as lines, exits 1 for an id the ledger does not know', () => {
    const found = run('trace', 'sb')
    expect(found.code).toBe(0)
    expect(found.out).toContain('trace of sb (invoice)')
    expect(found.out).toMatch(/transfer +paybridge-invoice-sb +created +2026-03-01 10:01:11 +amount=190\.00/)
    const json = JSON.parse(run('trace', 'evt_ok', '--json').out)
    expect(json.steps[1]).toMatchObject({ step: 'forward', status: 'delivered' })
    const missing = run('trace', 'nope')
    expect(missing).toMatchObject({ code: 1, out: 'nothing in the ledger mentions "nope"\n' })
  })
})

describe('ledger reconcile', () => {
  it('finds every planted mismatch on the day, and a clean day before it', () => {
    const result = reconcile(planted.ledger, { now: NOW })
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

  it('reconciles one day on request', () => {
    expect(reconcile(planted.ledger, { day: PREVIOUS_DAY, now: NOW })).toMatchObject({
      ok: true,
      mismatches: [],
      days: [{ day: PREVIOUS_DAY, credited: 2970, transfersCreated: 2970, transfersConfirmed: 2970 }],
    })
    expect(reconcile(planted.ledger, { day: '2026-01-01', now: NOW }).days).toEqual([
      expect.objectContaining({ day: '2026-01-01', invoices: 0, ok: true }),
    ])
  })

  it('exits 1 on a mismatch and 0 on a clean day, so it can run from cron', () => {
    const bad = run('reconcile')
    expect(bad.code).toBe(1)
    expect(bad.out).toContain('NOT reconciled: 4 mismatch(es)')
    expect(bad.out).toContain('2026-03-01 invoice inv-d (sd) credited 69.30 but has no transfer')
    expect(bad.out).toContain('transfer paybridge-invoice-sc of 50.00 for invoice inv-c failed at Stark Bank')
    const good = run('reconcile', '--day', PREVIOUS_DAY)
    expect(good.code).toBe(0)
    expect(good.out).toContain('reconciled: every credited invoice has its transfer')
    const json = JSON.parse(run('reconcile', '--day', DAY, '--json').out) as Reconciliation
    expect(json.mismatches).toHaveLength(4)
    expect(run('reconcile', '--day', '2026-02-30').code).toBe(2)
  })
})

describe('ledger views with filters', () => {
  it('filters transfers by paybridge or Stark Bank status', () => {
    expect(ledgerRows(planted.ledger, 'transfers', { status: 'failed' }).map((r) => r.transfer)).toEqual([
      'paybridge-invoice-sc',
    ])
    expect(ledgerRows(planted.ledger, 'transfers', { status: 'dead' }).map((r) => r.transfer)).toEqual([
      'paybridge-invoice-sf',
    ])
  })

  it('filters by time and status together, and prints JSON for scripts', () => {
    const since = run('invoices', '--since', DAY, '--status', 'credited', '--json')
    expect(since.code).toBe(0)
    expect((JSON.parse(since.out) as { invoice: string }[]).map((r) => r.invoice).sort()).toEqual([
      'inv-a',
      'inv-b',
      'inv-c',
      'inv-d',
      'inv-f',
    ])
    expect(
      JSON.parse(run('events', '--since', new Date(T + 120_000).toISOString(), '--json').out),
    ).toHaveLength(4)
    const ago = run('forwards', '--since', '2d', '--status', 'dead')
    expect(ago.out).toContain('evt_bad')
    expect(ago.out).not.toContain('evt_ok')
  })

  it('refuses unknown views, bad limits and unreadable times with usage (exit 2)', () => {
    expect(run('nope').code).toBe(2)
    expect(run('runs', '--limit', '0').code).toBe(2)
    const bad = run('runs', '--since', 'yesterday')
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('--since cannot read "yesterday"')
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { ledgerCommand } from '../src/adapters/cli/ledger-commands.ts'
import { type Ledger, openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { reconcileLedger } from '../src/app/reconcile-ledger.ts'
import { type BankEvent, decideBankEvent, type PayoutScope } from '../src/domain/bank-event.ts'
import { invoiceTag, runTag } from '../src/domain/invoice-batch.ts'
import { planTransfer } from '../src/domain/transfer.ts'
import type { Store } from '../src/ports/store.ts'
import { DESTINATION } from './support/ledger-fixture.ts'
import { viewsOf } from './support/ledger-views.ts'
import { tempDir } from './support/paybridge.ts'

// Reconcile and trace on a real ledger file when Stark Bank credits an invoice late (fine and
// interest on top of the planned amount), credits one twice, or credits one paybridge did not issue:
// the first credit counts, the rest are anomalies shown apart, and none of it is a mismatch.

const T = Date.UTC(2026, 2, 1, 10, 0, 0)
const NOW = T + 3_600_000

function credit(
  eventId: string,
  starkId: string,
  amount: number,
  fee: number,
  tags: string[],
  scope: PayoutScope = 'issued',
) {
  const event: BankEvent = {
    id: eventId,
    subscription: 'invoice',
    created: new Date(T).toISOString(),
    log: { id: `${eventId}9`, type: 'credited', invoice: { id: starkId, amount, fee, status: 'paid', tags } },
  }
  const decision = decideBankEvent(event, scope)
  const transfer =
    decision.kind === 'credit' ? planTransfer(starkId, decision.credited, DESTINATION) : undefined
  return { event, payload: JSON.stringify({ event }), decision, ...(transfer ? { transfer } : {}) }
}

describe('late and repeated credits in reconcile and trace', () => {
  let dir: ReturnType<typeof tempDir>
  let ledger: Ledger
  let store: Store
  let views: ReturnType<typeof viewsOf>

  beforeEach(async () => {
    dir = tempDir()
    ledger = openLedger(join(dir.path, 'ledger.sqlite'))
    store = sqliteStore(ledger)
    views = viewsOf(ledger)
    const invoices = ['run-1-0', 'run-1-1'].map((id) => ({
      id,
      runId: 'run-1',
      name: `Payer ${id}`,
      taxId: '012.345.678-90',
      amount: 10_000,
      tags: [runTag('run-1'), invoiceTag(id)],
    }))
    await store.planRun({ id: 'run-1', slot: 'sched:1', invoices }, T)
    await store.markRunIssued(
      'run-1',
      [
        { invoiceId: 'run-1-0', bankId: '7001' },
        { invoiceId: 'run-1-1', bankId: '7002' },
      ],
      T,
    )
    const tags = (id: string) => [runTag('run-1'), invoiceTag(id)]
    // 7001 paid late: 10 000 planned, 10 300 paid with fine and interest. 7002 paid on time.
    await store.recordBankEvent(credit('8001', '7001', 10_300, 60, tags('run-1-0')), T + 1_000)
    await store.recordBankEvent(credit('8002', '7002', 10_000, 50, tags('run-1-1')), T + 1_000)
    const { claimed } = await store.claimTransfers(10, T + 2_000, 60_000)
    for (const [i, c] of claimed.entries())
      await store.transferCreated(c, { id: `900${i}`, status: 'success' }, T + 3_000)
    // Then a later credited log for each (another event id): 7001 again with more interest, 7002 twice.
    await store.recordBankEvent(credit('8003', '7001', 10_450, 60, tags('run-1-0')), T + 4_000)
    await store.recordBankEvent(credit('8004', '7002', 10_000, 50, tags('run-1-1')), T + 4_000)
    // And an invoice of another system in the workspace.
    await store.recordBankEvent(credit('8005', '7003', 20_000, 100, ['their-own-tag']), T + 5_000)
  })
  afterEach(async () => {
    await views.close()
    ledger.close()
    dir.cleanup()
  })

  it('reconciles with the first credit of each invoice and lists later credits and unissued invoices as anomalies', async () => {
    const result = await reconcileLedger(views)({ now: NOW })
    expect(result.mismatches).toEqual([])
    expect(result.ok).toBe(true)
    expect(result.days).toEqual([
      expect.objectContaining({
        day: '2026-03-01',
        credited: 10_240 + 9_950,
        transfersCreated: 10_240 + 9_950,
      }),
    ])
    expect(result.anomalies).toEqual([
      {
        kind: 'not-issued',
        day: '2026-03-01',
        invoiceId: 'external-7003',
        starkId: '7003',
        credited: 19_900,
      },
      expect.objectContaining({ kind: 'event', eventId: '8003', subjectId: '7001' }),
      expect.objectContaining({ kind: 'event', eventId: '8004', subjectId: '7002' }),
    ])
  })

  it('exits 0 for anomalies alone and prints them apart from mismatches', async () => {
    const out: string[] = []
    const code = await ledgerCommand(['reconcile'], {
      views,
      reconcile: reconcileLedger(views),
      out: (t) => out.push(t),
      clock: () => NOW,
    })
    expect(code).toBe(0)
    const text = out.join('')
    expect(text).toContain('anomalies (recorded, changed nothing; not mismatches)')
    expect(text).toContain('event 8004 (7002): anomaly')
    expect(text).toContain('invoice external-7003 (7003) credited R$ 199.00, not paid out')
    expect(text).toContain('reconciled: every credited invoice has its transfer')
  })

  it('lists the anomalies in the events view and what the first credit paid in the invoices view', async () => {
    const anomalies = await views.rows('events', { status: 'anomaly', limit: 10 })
    expect(anomalies.map((e) => e.event).sort()).toEqual(['8003', '8004'])
    expect(anomalies.every((e) => e.flag === 'anomaly')).toBe(true)
    const invoices = await views.rows('invoices', { limit: 10 })
    expect(invoices.find((i) => i.invoice === 'run-1-0')).toMatchObject({
      amount_cents: 10_000,
      paid_cents: 10_300,
    })
    expect(invoices.find((i) => i.invoice === 'external-7003')).toMatchObject({ status: 'credited' })
  })

  it('traces the later credit as an anomaly and the invoice with what its first credit paid', async () => {
    const trace = await views.trace('7001')
    const invoice = trace.steps.find((s) => s.step === 'invoice')
    expect(invoice?.detail).toMatchObject({ amount_cents: 10_000, credited_cents: 10_300, fee_cents: 60 })
    const later = trace.steps.find((s) => s.id === '8003')
    expect(later?.detail).toMatchObject({
      flag: 'anomaly',
      outcome: expect.stringContaining('the first credit'),
    })
    expect(trace.steps.find((s) => s.id === '8001')?.detail.flag).toBeUndefined()
    const unissued = (await views.trace('7003')).steps.find((s) => s.step === 'transfer')
    expect(unissued).toMatchObject({
      status: 'skipped',
      detail: { reason: 'not issued by paybridge (PAYOUT_SCOPE=issued)' },
    })
  })
})

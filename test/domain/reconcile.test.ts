import { describe, expect, it } from 'bun:test'
import { type CreditedInvoice, type LedgerTransfer, reconcile } from '../../src/domain/reconcile.ts'
import { describeMismatch } from '../../src/domain/reconcile-report.ts'

const AT = Date.UTC(2026, 2, 1, 10)
const NOW = AT + 3_600_000

const invoice = (starkId: string, amount: number, fee: number, creditedAt = AT): CreditedInvoice => ({
  id: `inv-${starkId}`,
  starkId,
  amount,
  fee,
  creditedAt,
})
const transfer = (starkId: string, amount: number, more: Partial<LedgerTransfer> = {}): LedgerTransfer => ({
  id: `paybridge-invoice-${starkId}`,
  invoiceStarkId: starkId,
  amount,
  status: 'created',
  bankStatus: null,
  reason: null,
  createdAt: AT,
  ...more,
})

describe('reconcile', () => {
  it('balances a day where every credited invoice became a transfer of amount − fee', () => {
    const result = reconcile(
      [invoice('a', 10_000, 50), invoice('b', 5_000, 0)],
      [transfer('a', 9_950, { bankStatus: 'success' }), transfer('b', 5_000)],
      { now: NOW },
    )
    expect(result).toEqual({
      ok: true,
      mismatches: [],
      anomalies: [],
      days: [
        {
          day: '2026-03-01',
          invoices: 2,
          credited: 14_950,
          transfersCreated: 14_950,
          transfersConfirmed: 9_950,
          pending: 0,
          held: 0,
          mismatches: 0,
          ok: true,
        },
      ],
    })
  })

  it('flags a credited invoice with no transfer, a wrong amount, a failed and a dead transfer', () => {
    const result = reconcile(
      [invoice('a', 10_000, 50), invoice('b', 20_000, 100), invoice('c', 5_000, 0), invoice('f', 4_000, 40)],
      [
        transfer('b', 19_000),
        transfer('c', 5_000, { bankStatus: 'failed' }),
        transfer('f', 3_960, { status: 'dead', reason: 'invalid account' }),
      ],
      { now: NOW },
    )
    expect(result.ok).toBe(false)
    expect(result.mismatches.map((m) => m.kind)).toEqual([
      'missing-transfer',
      'amount-differs',
      'transfer-failed',
      'transfer-dead',
    ])
    expect(result.days[0]).toMatchObject({
      credited: 38_810,
      transfersCreated: 24_000,
      mismatches: 4,
      ok: false,
    })
    expect(result.mismatches.map(describeMismatch)[1]).toBe(
      '2026-03-01 invoice inv-b credited R$ 199.00 but transfer paybridge-invoice-b is R$ 190.00',
    )
  })

  it('waits out the grace period for a transfer still pending, then flags it late', () => {
    const invoices = [invoice('a', 10_000, 0)]
    const pending = [transfer('a', 10_000, { status: 'pending', createdAt: AT })]
    const early = reconcile(invoices, pending, { now: AT + 60_000, graceMs: 600_000 })
    expect(early.ok).toBe(true)
    expect(early.days[0]?.pending).toBe(10_000)
    const late = reconcile(invoices, pending, { now: AT + 700_000, graceMs: 600_000 })
    expect(late.mismatches).toEqual([
      {
        kind: 'transfer-late',
        day: '2026-03-01',
        invoiceId: 'inv-a',
        transferId: 'paybridge-invoice-a',
        amount: 10_000,
        since: AT,
      },
    ])
  })

  it('sums transfers held for approval apart, without calling them a mismatch', () => {
    const result = reconcile([invoice('big', 900_000, 0)], [transfer('big', 900_000, { status: 'held' })], {
      now: AT + 86_400_000,
    })
    expect(result.ok).toBe(true)
    expect(result.days[0]).toMatchObject({ credited: 900_000, transfersCreated: 0, held: 900_000 })
  })

  it('accepts a skipped transfer for an invoice that credited nothing, and flags a transfer with no credit', () => {
    const result = reconcile(
      [invoice('z', 100, 100)],
      [transfer('z', 0, { status: 'skipped' }), transfer('ghost', 700, { createdAt: AT - 86_400_000 })],
      { now: NOW },
    )
    expect(result.days.map((d) => [d.day, d.ok])).toEqual([
      ['2026-02-28', false],
      ['2026-03-01', true],
    ])
    expect(result.mismatches).toEqual([
      {
        kind: 'transfer-without-credit',
        day: '2026-02-28',
        transferId: 'paybridge-invoice-ghost',
        invoiceStarkId: 'ghost',
        amount: 700,
      },
    ])
  })

  it('attributes each invoice to the UTC day of its credit', () => {
    const lateNight = Date.UTC(2026, 2, 1, 23, 59, 59)
    const result = reconcile(
      [invoice('a', 1_000, 0, lateNight), invoice('b', 2_000, 0, lateNight + 1000)],
      [transfer('a', 1_000), transfer('b', 2_000)],
      { now: lateNight + 86_400_000 },
    )
    expect(result.days.map((d) => [d.day, d.credited])).toEqual([
      ['2026-03-01', 1_000],
      ['2026-03-02', 2_000],
    ])
  })
})

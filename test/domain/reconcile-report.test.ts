import { describe, expect, it } from 'bun:test'
import type { Reconciliation } from '../../src/domain/reconcile.ts'
import { describeAnomaly, describeMismatch, reconciliationJson } from '../../src/domain/reconcile-report.ts'

const AT = Date.UTC(2026, 2, 1, 10, 30)

const result: Reconciliation = {
  ok: false,
  days: [
    {
      day: '2026-03-01',
      invoices: 2,
      credited: 123_456_789,
      transfersCreated: 0,
      transfersConfirmed: 0,
      pending: 0,
      held: 23_456_789,
      mismatches: 1,
      ok: false,
    },
  ],
  mismatches: [
    {
      kind: 'transfer-late',
      day: '2026-03-01',
      invoiceId: 'inv-a',
      transferId: 'tr-a',
      amount: 100_000_000,
      since: AT,
    },
  ],
  anomalies: [{ kind: 'not-issued', day: '2026-03-01', invoiceId: 'ext-b', starkId: 'b', credited: 5 }],
}

describe('a reconciliation as it leaves paybridge', () => {
  it('tells people each mismatch and anomaly in R$, with times in ISO 8601 UTC', () => {
    expect(describeMismatch(result.mismatches[0]!)).toBe(
      '2026-03-01 transfer tr-a of R$ 1,000,000.00 for invoice inv-a not created since 2026-03-01T10:30:00.000Z',
    )
    expect(describeAnomaly(result.anomalies[0]!)).toBe(
      '2026-03-01 invoice ext-b (b) credited R$ 0.05, not paid out: not issued by paybridge (PAYOUT_SCOPE=issued)',
    )
  })

  it('gives scripts every amount as integer cents under a …Cents name and every time as ISO 8601 UTC', () => {
    expect(reconciliationJson({ ...result, from: '2026-02-24' })).toEqual({
      ok: false,
      from: '2026-02-24',
      days: [
        {
          day: '2026-03-01',
          invoices: 2,
          creditedCents: 123_456_789,
          transfersCreatedCents: 0,
          transfersConfirmedCents: 0,
          pendingCents: 0,
          heldCents: 23_456_789,
          mismatches: 1,
          ok: false,
        },
      ],
      mismatches: [
        {
          kind: 'transfer-late',
          day: '2026-03-01',
          invoiceId: 'inv-a',
          transferId: 'tr-a',
          amountCents: 100_000_000,
          since: '2026-03-01T10:30:00.000Z',
        },
      ],
      anomalies: [
        { kind: 'not-issued', day: '2026-03-01', invoiceId: 'ext-b', starkId: 'b', creditedCents: 5 },
      ],
    })
  })
})

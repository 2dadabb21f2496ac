import { describe, expect, it } from 'bun:test'
import { type BankEvent, decideBankEvent } from '../../src/domain/bank-event.ts'
import { seededRandom } from '../../src/domain/random.ts'
import { backoffMs } from '../../src/domain/retry.ts'
import { planTransfer, TRANSFER_TAG, transferIdFor } from '../../src/domain/transfer.ts'

const credited = (amount: number, fee: number, type = 'credited', subscription = 'invoice'): BankEvent => ({
  id: 'evt-1',
  subscription,
  created: '2026-11-25T12:00:00+00:00',
  log: { id: 'log-1', type, invoice: { id: 'inv-1', amount, fee, status: 'paid', tags: [] } },
})

const destination = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

describe('deciding on a Stark Bank event', () => {
  it('pays out amount minus fee for a credited invoice', () => {
    expect(decideBankEvent(credited(10_000, 150), 'issued')).toEqual({
      kind: 'credit',
      invoiceId: 'inv-1',
      amount: 10_000,
      fee: 150,
      credited: 9_850,
      plannedId: null,
      scope: 'issued',
    })
  })

  it('plans no transfer when the fee eats the whole amount, and says why', () => {
    const decision = decideBankEvent(credited(100, 100), 'issued')
    expect(decision.kind).toBe('no-transfer')
    if (decision.kind === 'no-transfer') expect(decision.reason).toContain('≤ 0')
  })

  it('records but does not act on other invoice logs and other subscriptions', () => {
    expect(decideBankEvent(credited(10_000, 150, 'paid'), 'issued').kind).toBe('ignore')
    expect(decideBankEvent(credited(10_000, 150, 'created'), 'issued').kind).toBe('ignore')
    expect(decideBankEvent(credited(10_000, 150, 'credited', 'boleto'), 'issued').kind).toBe('ignore')
  })
})

describe('planning a transfer', () => {
  it('derives externalId and the lookup tag from the invoice id alone', () => {
    const a = planTransfer('5656', 9_850, destination)
    const b = planTransfer('5656', 9_850, { ...destination, name: 'Other' })
    expect(a.externalId).toBe(transferIdFor('5656'))
    expect(a.externalId).toBe(b.externalId)
    expect(a.tags).toEqual([TRANSFER_TAG, 'paybridge-for-invoice-5656'])
    expect(a.amount).toBe(9_850)
    expect(a.accountNumber).toBe('6341320293482496')
  })

  it('refuses amounts that are not positive whole cents', () => {
    expect(() => planTransfer('1', 0, destination)).toThrow(RangeError)
    expect(() => planTransfer('1', 10.5, destination)).toThrow(RangeError)
  })
})

describe('retry backoff', () => {
  it('grows exponentially within jitter, is capped, and honours a longer Retry-After', () => {
    const random = seededRandom(3)
    const policy = { baseMs: 1_000, capMs: 60_000 }
    for (let attempt = 1; attempt <= 12; attempt++) {
      const step = Math.min(60_000, 1_000 * 2 ** (attempt - 1))
      const delay = backoffMs(attempt, random, policy)
      expect(delay).toBeGreaterThanOrEqual(step / 2)
      expect(delay).toBeLessThanOrEqual(step)
    }
    expect(backoffMs(1, () => 0, policy, 30_000)).toBe(30_000)
  })
})

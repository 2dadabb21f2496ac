import { describe, expect, it } from 'bun:test'
import {
  invoiceTag,
  missingInvoices,
  planBatch,
  runIdForSlot,
  runTag,
} from '../../src/domain/invoice-batch.ts'
import { seededRandom } from '../../src/domain/random.ts'
import { isValidTaxId } from '../../src/domain/tax-id.ts'

describe('planning an invoice run', () => {
  it('plans 8 to 12 invoices to valid payers with amounts in range, over many seeds', () => {
    const counts = new Set<number>()
    for (let seed = 1; seed <= 300; seed++) {
      const batch = planBatch('sched-20261125t120000', seededRandom(seed))
      counts.add(batch.length)
      expect(batch.length).toBeGreaterThanOrEqual(8)
      expect(batch.length).toBeLessThanOrEqual(12)
      for (const inv of batch) {
        expect(isValidTaxId(inv.taxId)).toBe(true)
        expect(Number.isInteger(inv.amount)).toBe(true)
        expect(inv.amount).toBeGreaterThanOrEqual(1_000)
        expect(inv.amount).toBeLessThanOrEqual(500_000)
        expect(inv.name.trim().length).toBeGreaterThan(3)
      }
    }
    expect([...counts].sort((a, b) => a - b)).toEqual([8, 9, 10, 11, 12])
  })

  it('is the same plan for the same seed, and gives each invoice lower-case run and invoice tags', () => {
    const a = planBatch('sched-20261125t120000', seededRandom(5))
    const b = planBatch('sched-20261125t120000', seededRandom(5))
    expect(a).toEqual(b)
    expect(new Set(a.map((i) => i.id)).size).toBe(a.length)
    for (const inv of a) {
      expect(inv.tags).toEqual([runTag(inv.runId), invoiceTag(inv.id)])
      for (const tag of inv.tags) expect(tag).toBe(tag.toLowerCase())
    }
  })

  it('derives the run id from the schedule slot', () => {
    expect(runIdForSlot(new Date('2026-11-25T12:00:00Z'))).toBe('sched-20261125t120000')
    expect(runIdForSlot(new Date('2026-11-25T12:00:00.042Z'), 'manual')).toBe('manual-20261125t120000042')
  })

  it('after a crash, finds which planned invoices the bank already holds and which are missing', () => {
    const plan = planBatch('sched-20261125t120000', seededRandom(9))
    const [first, second] = plan
    if (!first || !second) throw new Error('plan too small')
    const existing = [
      { id: 'bank-1', tags: first.tags.map((t) => t.toUpperCase()) },
      { id: 'bank-2', tags: second.tags },
    ]
    const { missing, found } = missingInvoices(plan, existing)
    expect(found).toEqual([
      { invoiceId: first.id, bankId: 'bank-1' },
      { invoiceId: second.id, bankId: 'bank-2' },
    ])
    expect(missing.map((m) => m.id)).toEqual(plan.slice(2).map((p) => p.id))
  })
})

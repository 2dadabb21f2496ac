import { describe, expect, it } from 'bun:test'
import { parseBankEvent } from '../../src/app/bank-event-schema.ts'

// What the webhook and the worker accept as a Stark Bank event: ids as Stark Bank issues them (digit
// strings) and a credited invoice's fee, which is what keeps the payout at amount − fee.

const invoiceEvent = (invoice: Record<string, unknown>, ids: { event?: unknown; log?: unknown } = {}) =>
  JSON.stringify({
    event: {
      id: ids.event ?? '4000000000000001',
      subscription: 'invoice',
      created: '2026-01-01T00:00:00.000000+00:00',
      log: { id: ids.log ?? '4000000000000003', type: 'credited', invoice },
    },
  })

const transferEvent = (transfer: Record<string, unknown>) =>
  JSON.stringify({
    event: {
      id: '4000000000000011',
      subscription: 'transfer',
      log: { id: '4000000000000012', type: 'success', transfer },
    },
  })

const invoice = { id: '4000000000000002', amount: 10_000, fee: 50, status: 'paid', tags: [] }
const transfer = { id: '4000000000000013', amount: 9_950, status: 'success', tags: [] }

const refusal = (body: string) => {
  const parsed = parseBankEvent(body)
  return parsed.ok ? undefined : parsed.reason
}

describe('Stark Bank event schema', () => {
  it('accepts a credited invoice and a transfer event with digit ids', () => {
    expect(parseBankEvent(invoiceEvent(invoice)).ok).toBe(true)
    expect(parseBankEvent(transferEvent(transfer)).ok).toBe(true)
  })

  for (const [label, bad] of [
    ['letters', 'inv-1'],
    ['unicode digits', '٤٠٠٠'],
    ['a NUL', '4000\u00000001'],
    ['emptiness', ''],
    ['a sign', '-4000'],
  ] as const) {
    it(`refuses ids made of ${label}, naming the field`, () => {
      expect(refusal(invoiceEvent(invoice, { event: bad }))).toContain('event.id')
      expect(refusal(invoiceEvent(invoice, { log: bad }))).toContain('event.log.id')
      expect(refusal(invoiceEvent({ ...invoice, id: bad }))).toContain('event.log.invoice.id')
      expect(refusal(transferEvent({ ...transfer, id: bad }))).toContain('event.log.transfer.id')
    })
  }

  it('refuses a number where Stark Bank sends an id string', () => {
    expect(refusal(invoiceEvent(invoice, { event: 4000000000000001 }))).toContain('event.id')
  })

  it('refuses a credited invoice without a fee instead of paying out the whole amount', () => {
    const { fee: _, ...noFee } = invoice
    const reason = refusal(invoiceEvent(noFee))
    expect(reason).toContain('event.log.invoice.fee')
    expect(reason).toContain('fee')
    expect(refusal(invoiceEvent({ ...invoice, fee: -1 }))).toContain('event.log.invoice.fee')
    expect(refusal(invoiceEvent({ ...invoice, fee: 1.5 }))).toContain('event.log.invoice.fee')
    expect(refusal(invoiceEvent({ ...invoice, fee: null }))).toContain('event.log.invoice.fee')
  })

  it('still reads an invoice log that is not a credit without a fee (nothing is paid for it)', () => {
    const { fee: _, ...noFee } = invoice
    const body = JSON.parse(invoiceEvent(noFee))
    body.event.log.type = 'created'
    expect(parseBankEvent(JSON.stringify(body)).ok).toBe(true)
  })
})

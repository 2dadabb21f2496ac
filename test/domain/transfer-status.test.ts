import { describe, expect, it } from 'bun:test'
import {
  applyKeptEvents,
  nextBankStatus,
  settleTransferEvent,
  TERMINAL_BANK_STATUSES,
} from '../../src/domain/transfer-status.ts'

const update = (status: string, externalId: string | null = null) => ({
  kind: 'transfer-update' as const,
  transferId: '6001',
  externalId,
  status,
})

describe('the transfer lifecycle at Stark Bank', () => {
  it('moves forward from created through processing to a terminal status', () => {
    expect(nextBankStatus(null, 'processing')).toBe('processing')
    expect(nextBankStatus('created', 'processing')).toBe('processing')
    expect(nextBankStatus('processing', 'success')).toBe('success')
    expect(nextBankStatus('created', 'failed')).toBe('failed')
  })

  it('never leaves a terminal status, whatever comes late', () => {
    for (const terminal of TERMINAL_BANK_STATUSES)
      for (const late of ['created', 'processing', 'success', 'failed', 'canceled', 'something-new'])
        expect(nextBankStatus(terminal, late)).toBe(terminal)
  })

  it('never moves back from processing to created', () => {
    expect(nextBankStatus('processing', 'created')).toBe('processing')
  })

  it('keeps an event for a transfer not created yet, and applies one whose Stark Bank id matches', () => {
    expect(settleTransferEvent(update('success', 'paybridge-invoice-1'), undefined).kind).toBe('unmatched')
    expect(
      settleTransferEvent(update('success'), { id: 'paybridge-invoice-1', starkId: null, bankStatus: null })
        .kind,
    ).toBe('unmatched')
    expect(
      settleTransferEvent(update('processing'), {
        id: 'paybridge-invoice-1',
        starkId: '6001',
        bankStatus: 'success',
      }),
    ).toMatchObject({
      kind: 'apply',
      bankStatus: 'success',
      outcome: expect.stringContaining('stays success'),
    })
    expect(
      settleTransferEvent(update('success'), { id: 'paybridge-invoice-1', starkId: '6999', bankStatus: null })
        .kind,
    ).toBe('anomaly')
  })
})

const kept = (id: string, transferId: string, status: string) => ({
  id,
  payload: JSON.stringify({
    event: { id, subscription: 'transfer', log: { type: status, transfer: { id: transferId, status } } },
  }),
})

describe('transfer events kept until their transfer is created', () => {
  it('applies them in arrival order, resolves each with its outcome and leaves the transfer at the last status', () => {
    const applied = applyKeptEvents([kept('e1', '6001', 'processing'), kept('e2', '6001', 'success')], {
      id: 'paybridge-invoice-1',
      starkId: '6001',
      bankStatus: 'created',
    })
    expect(applied.bankStatus).toBe('success')
    expect(applied.resolved).toEqual([
      {
        id: 'e1',
        flag: null,
        outcome: 'transfer 6001 is processing (applied when the transfer was created)',
      },
      { id: 'e2', flag: null, outcome: 'transfer 6001 is success (applied when the transfer was created)' },
    ])
  })

  it('flags an event naming another Stark Bank id as an anomaly and changes no status for it', () => {
    const applied = applyKeptEvents([kept('e1', '6999', 'success')], {
      id: 'paybridge-invoice-1',
      starkId: '6001',
      bankStatus: 'created',
    })
    expect(applied.bankStatus).toBeUndefined()
    expect(applied.resolved).toMatchObject([{ id: 'e1', flag: 'anomaly' }])
  })

  it('resolves nothing while the transfer has no Stark Bank id', () => {
    const applied = applyKeptEvents([kept('e1', '6001', 'success')], {
      id: 'paybridge-invoice-1',
      starkId: null,
      bankStatus: null,
    })
    expect(applied).toEqual({ resolved: [], bankStatus: undefined })
  })
})

import { describe, expect, it } from 'bun:test'
import { sqliteRead } from '../src/adapters/ledger/read.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { ledgerViews } from '../src/adapters/ledger/views.ts'
import { prometheusMetrics } from '../src/adapters/metrics/prometheus.ts'
import { timedBank } from '../src/adapters/metrics/timed.ts'
import { type Bank, BankError } from '../src/ports/bank.ts'
import { sample } from './support/metrics-sample.ts'

/** A clock that advances 250 ms per reading. */
function steppingClock() {
  let t = 0
  return () => (t += 250)
}

describe('timed calls', () => {
  it('times every Stark Bank call by operation and status class, passing results and errors through', async () => {
    const ledger = openLedger(':memory:')
    const metrics = prometheusMetrics({ views: ledgerViews(sqliteRead(ledger)) })
    const calls: string[] = []
    const fake = {
      createTransfers: async () => {
        calls.push('create')
        throw new BankError('transient', 'HTTP 503', [], 503)
      },
      findTransfers: async () => [],
      publicKey: async () => {
        throw new BankError('transient', 'timeout of 15000ms exceeded')
      },
      createInvoices: async () => {
        throw new BankError('rejected', 'invalid', [{ code: 'invalidTaxId', message: 'bad' }], 400)
      },
    } as unknown as Bank
    const bank = timedBank(fake, metrics, steppingClock())
    expect(await bank.findTransfers(['t'])).toEqual([])
    await expect(bank.createTransfers([])).rejects.toThrow('HTTP 503')
    await expect(bank.publicKey()).rejects.toBeInstanceOf(BankError)
    await expect(bank.createInvoices([])).rejects.toThrow('invalid')
    await Bun.sleep(0)
    const text = await metrics.scrape()
    expect(
      sample(text, 'paybridge_bank_call_seconds_count{operation="find_transfers",status_class="2xx"}'),
    ).toBe(1)
    expect(
      sample(text, 'paybridge_bank_call_seconds_sum{operation="find_transfers",status_class="2xx"}'),
    ).toBe(0.25)
    expect(
      sample(text, 'paybridge_bank_call_seconds_count{operation="create_transfers",status_class="5xx"}'),
    ).toBe(1)
    expect(
      sample(text, 'paybridge_bank_call_seconds_count{operation="public_key",status_class="timeout"}'),
    ).toBe(1)
    expect(
      sample(text, 'paybridge_bank_call_seconds_count{operation="create_invoices",status_class="4xx"}'),
    ).toBe(1)
    expect(calls).toEqual(['create'])
    ledger.close()
  })
})

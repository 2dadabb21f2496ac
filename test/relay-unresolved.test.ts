import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { prometheusMetrics } from '../src/adapters/metrics/prometheus.ts'
import { transferRelay } from '../src/app/relay-transfers.ts'
import { BankError } from '../src/ports/bank.ts'
import { credit, fakeBank, type Ledger, postgres, recordingLog, sqlite, T } from './support/relay-ledgers.ts'

// A transfer whose calls keep ending unknown may exist at Stark Bank: it is never dead (dead looks
// unpaid and invites paying it by hand). Past the retry limit it is flagged unresolved and retried on.

const timeout = () => new BankError('transient', 'create transfers failed: ETIMEDOUT')

for (const engine of [sqlite(), postgres()]) {
  describe(`unresolved transfers on ${engine.name}`, () => {
    let ledger: Ledger
    let now = T
    const clock = () => now

    beforeAll(() => engine.setUp(), 60_000)
    afterAll(() => engine.tearDown())
    afterEach(async () => {
      await ledger?.close()
      now = T
    })

    it('a bank that always times out leaves the transfer pending and flagged unresolved, never dead; it ends created once the bank answers', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      bank.onCreate = async () => {
        throw timeout()
      }
      bank.onFind = async () => {
        throw new BankError('transient', 'find transfers failed: HTTP 503')
      }
      const { log, lines } = recordingLog()
      const metrics = prometheusMetrics({
        views: undefined,
        unresolvedTransfers: () => ledger.store.unresolvedTransfers(),
      })
      const relay = transferRelay({
        store: ledger.store,
        bank: bank.bank,
        clock,
        random: () => 0.5,
        log,
        leaseMs: 1_000,
        maxAttempts: 3,
        backoff: { baseMs: 1_000, capMs: 60_000 },
      })
      const unresolvedLogs = () => lines.filter((l) => l.level === 'error' && /unresolved/.test(l.msg))

      let dead = 0
      for (let i = 0; i < 8; i++) {
        dead += (await relay.relayOnce()).dead
        now += 10 * 60_000
        if (i === 1) {
          // Two attempts: under the limit, nothing flagged yet.
          expect(await ledger.transfer(id)).toMatchObject({ status: 'pending', unresolved_at: null })
          expect(await ledger.store.unresolvedTransfers()).toBe(0)
        }
      }
      expect(dead).toBe(0)
      const t = await ledger.transfer(id)
      expect(t.status).toBe('pending')
      expect(t.unresolved_at).not.toBeNull()
      expect(t.reason).toMatch(/^unresolved after \d+ attempts: .*HTTP 503.*; still retrying$/)
      expect(unresolvedLogs().length).toBe(1)
      expect(unresolvedLogs()[0]?.fields).toMatchObject({ transferId: id })
      expect(await ledger.store.unresolvedTransfers()).toBe(1)
      expect(await metrics.scrape()).toContain('paybridge_transfers_unresolved 1')

      // Still retrying: the next due pass calls the bank again.
      const calls = bank.posts + bank.lookups
      await relay.relayOnce()
      expect(bank.posts + bank.lookups).toBeGreaterThan(calls)

      // The bank answers again: the lookup finds nothing, the send goes through.
      bank.onCreate = async (plans) => bank.accept(plans)
      bank.onFind = async (listed) => listed
      now += 10 * 60_000
      expect(await relay.relayOnce()).toMatchObject({ created: 1, dead: 0 })
      expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
      expect(bank.held.length).toBe(1)
      expect(await ledger.store.unresolvedTransfers()).toBe(0)
      expect(await metrics.scrape()).toContain('paybridge_transfers_unresolved 0')
      expect(unresolvedLogs().length).toBe(1)
    })

    it('a definitive refusal (4xx with Stark Bank reasons) still ends the transfer dead at once', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      bank.onCreate = async () => {
        throw new BankError('rejected', 'create transfers rejected', [
          { code: 'invalidAccountNumber', message: 'the account does not exist' },
        ])
      }
      const relay = transferRelay({
        store: ledger.store,
        bank: bank.bank,
        clock,
        random: () => 0.5,
        log: recordingLog().log,
        leaseMs: 1_000,
        maxAttempts: 3,
      })
      expect(await relay.relayOnce()).toMatchObject({ dead: 1 })
      const t = await ledger.transfer(id)
      expect(t).toMatchObject({ status: 'dead', unresolved_at: null })
      expect(t.reason).toContain('invalidAccountNumber')
      expect(await ledger.store.unresolvedTransfers()).toBe(0)
    })
  })
}

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { type RelayOptions, transferRelay } from '../src/app/relay-transfers.ts'
import { type Bank, BankError } from '../src/ports/bank.ts'
import type { Store } from '../src/ports/store.ts'
import { credit, fakeBank, type Ledger, postgres, recordingLog, sqlite, T } from './support/relay-ledgers.ts'

// The transfer relay under faults, with a fake Bank and the real stores on SQLite (one file, two
// connections) and PostgreSQL (one database, two pools): what two relays may and may not do to a
// transfer between them.

for (const engine of [sqlite(), postgres()]) {
  describe(`transfer relay on ${engine.name}`, () => {
    let ledger: Ledger
    let now = T
    const clock = () => now
    const relay = (store: Store, bank: Bank, extra: Partial<RelayOptions> = {}) =>
      transferRelay({
        store,
        bank,
        clock,
        random: () => 0.5,
        log: recordingLog().log,
        leaseMs: 1_000,
        ...extra,
      })

    beforeAll(() => engine.setUp(), 60_000)
    afterAll(() => engine.tearDown())
    afterEach(async () => {
      await ledger?.close()
      now = T
    })

    it('a relay whose lease ran out cannot reopen a transfer another relay marked created', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      let answer: (() => void) | undefined
      const stuck = new Promise<void>((resolve) => {
        answer = resolve
      })
      // Relay A's POST hangs past its lease, then fails as if it timed out.
      bank.onCreate = async () => {
        await stuck
        throw new BankError('transient', 'create transfers failed: ETIMEDOUT')
      }
      const a = relay(ledger.store, bank.bank).relayOnce()
      while (bank.posts === 0) await Bun.sleep(5)

      now += 5_000
      bank.onCreate = async (plans) => bank.accept(plans)
      const b = await relay(ledger.second, bank.bank).relayOnce()
      expect(b).toMatchObject({ claimed: 1, created: 1 })

      answer?.()
      expect(await a).toMatchObject({ claimed: 1, retried: 0, stale: 1 })
      expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
      expect(await ledger.outbox(id)).toEqual({ status: 'done' })
      now += 3_600_000
      expect(await relay(ledger.store, bank.bank).relayOnce()).toMatchObject({ claimed: 0 })
      expect(bank.held.length).toBe(1)
    })

    it('a relay whose lease ran out cannot mark dead a transfer another relay marked created', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      let answer: (() => void) | undefined
      const stuck = new Promise<void>((resolve) => {
        answer = resolve
      })
      bank.onCreate = async () => {
        await stuck
        throw new BankError('rejected', 'create transfers rejected', [
          { code: 'invalidAccountNumber', message: 'the account does not exist' },
        ])
      }
      const a = relay(ledger.store, bank.bank).relayOnce()
      while (bank.posts === 0) await Bun.sleep(5)
      now += 5_000
      bank.onCreate = async (plans) => bank.accept(plans)
      await relay(ledger.second, bank.bank).relayOnce()
      answer?.()
      expect(await a).toMatchObject({ dead: 0, stale: 1 })
      expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
      expect(await ledger.outbox(id)).toEqual({ status: 'done' })
    })

    it('keeps a transfer Stark Bank refused as a duplicate open, looking it up until its list shows it', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      // The first POST creates the transfer but its answer is lost.
      bank.onCreate = async (plans) => {
        bank.accept(plans)
        throw new BankError('transient', 'create transfers failed: ECONNRESET')
      }
      // Stark Bank's lists lag: the next 6 lookups do not show the new transfer.
      let lagging = 6
      bank.onFind = async (listed) => (lagging-- > 0 ? [] : listed)
      const r = relay(ledger.store, bank.bank, { maxAttempts: 2 })
      await r.relayOnce()
      bank.onCreate = async (plans) => bank.accept(plans)
      for (let i = 0; i < 8 && (await ledger.transfer(id)).status !== 'created'; i++) {
        now += 10 * 60_000
        await r.relayOnce()
        const t = await ledger.transfer(id)
        if (t.status !== 'created') {
          expect(t.status).toBe('pending')
          expect(t.reason).toContain('may exist at Stark Bank')
        }
      }
      expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
      expect(bank.held.length).toBe(1)
    })

    for (const fault of [
      { name: '401 invalidCredentials', status: 401, code: 'invalidCredentials' },
      { name: '401 invalidAccessTime', status: 401, code: 'invalidAccessTime' },
      { name: '403', status: 403, code: 'forbidden' },
    ]) {
      it(`stops sending on ${fault.name}, kills no transfer, and resumes after a probe`, async () => {
        ledger = await engine.open()
        const ids = [
          await credit(ledger.store, 'inv-1', 10_000),
          await credit(ledger.store, 'inv-2', 20_000),
          await credit(ledger.store, 'inv-3', 30_000),
        ]
        const bank = fakeBank()
        const refuse = async (): Promise<never> => {
          throw new BankError(
            'rejected',
            `rejected: ${fault.code}`,
            [{ code: fault.code, message: 'no' }],
            fault.status,
          )
        }
        bank.onCreate = refuse
        bank.onFind = refuse
        const { log, lines } = recordingLog()
        const circuit: [boolean, string | null][] = []
        const r = relay(ledger.store, bank.bank, {
          log,
          maxAttempts: 1,
          metrics: {
            relayCircuit: (open, reason) => circuit.push([open, reason]),
            relayStaleWrite: () => {},
          },
          circuitBackoff: { baseMs: 60_000, capMs: 60_000 },
        })
        expect(await r.relayOnce()).toMatchObject({ claimed: 3, released: 3, dead: 0 })
        for (const id of ids) {
          expect(await ledger.transfer(id)).toMatchObject({ status: 'pending' })
          expect(await ledger.outbox(id)).toEqual({ status: 'pending' })
        }
        expect(r.readiness()).toContain(fault.code)
        expect(circuit.at(-1)?.[0]).toBe(true)
        // Still refused at the first probe: one transfer tried, given back again, none dead.
        now += 60_000
        expect(await r.relayOnce()).toMatchObject({ claimed: 1, released: 1, dead: 0 })
        expect(await r.relayOnce()).toMatchObject({ claimed: 0 })
        expect(lines.filter((l) => l.level === 'error').length).toBe(1)

        bank.onCreate = async (plans) => bank.accept(plans)
        bank.onFind = async (listed) => listed
        now += 60_000
        expect(await r.relayOnce()).toMatchObject({ claimed: 1, created: 1 })
        expect(r.readiness()).toBe(true)
        expect(circuit.at(-1)).toEqual([false, null])
        await r.relayOnce()
        for (const id of ids) expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
        expect(bank.held.length).toBe(3)
      })
    }

    it('two relays claiming at once never pass the daily limit', async () => {
      ledger = await engine.open()
      for (let i = 0; i < 20; i++) await credit(ledger.store, `inv-${i}`, 10_000)
      const bank = fakeBank()
      // Every POST takes a while, so both relays have transfers in flight at once.
      bank.onCreate = async (plans) => {
        await Bun.sleep(30)
        return bank.accept(plans)
      }
      const limits = { maxPerTransfer: 1_000_000, maxPerDay: 55_000 }
      const relays = [ledger.store, ledger.second].map((s) =>
        relay(s, bank.bank, { limits, batchSize: 3, leaseMs: 60_000 }),
      )
      await Promise.all(
        relays.map(async (r) => {
          for (let i = 0; i < 10; i++) await r.relayOnce()
        }),
      )
      const sent = bank.held.reduce((sum, t) => sum + t.amount, 0)
      expect(sent).toBeLessThanOrEqual(55_000)
      expect(bank.held.length).toBe(5)
    })

    it('looks up a retried transfer before the limit: one already at the bank ends created, not held', async () => {
      ledger = await engine.open()
      const first = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      bank.onCreate = async (plans) => {
        bank.accept(plans)
        throw new BankError('transient', 'create transfers failed: ETIMEDOUT')
      }
      const limits = { maxPerTransfer: 1_000_000, maxPerDay: 15_000 }
      const r = relay(ledger.store, bank.bank, { limits })
      await r.relayOnce()
      // A second credit arrives while the first's outcome is unknown.
      bank.onCreate = async (plans) => bank.accept(plans)
      const second = await credit(ledger.store, 'inv-2', 10_000)
      now += 60_000
      await r.relayOnce()
      now += 60_000
      await r.relayOnce()
      expect(await ledger.transfer(first)).toMatchObject({ status: 'created' })
      expect(await ledger.transfer(second)).toMatchObject({ status: 'held' })
      expect(bank.held.map((t) => t.externalId)).toEqual([first])
    })
  })
}

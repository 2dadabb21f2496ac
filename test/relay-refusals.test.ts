import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { transferRelay } from '../src/app/relay-transfers.ts'
import { BankError, type NewTransfer } from '../src/ports/bank.ts'
import { credit, fakeBank, type Ledger, postgres, recordingLog, sqlite, T } from './support/relay-ledgers.ts'

// What a refusal means depends on what came before it: once an attempt's outcome was unknown the
// transfer may be at Stark Bank, and nothing later makes it dead (dead looks unpaid and invites
// paying it by hand); it is flagged unresolved for an operator instead. A 4xx without Stark Bank's
// error list says nothing about the transfer, and an externalId refusal is never a plain refusal.

const timeout = () => new BankError('transient', 'create transfers failed: ETIMEDOUT')
const refusal = (code: string, message: string) =>
  new BankError('rejected', `create transfers rejected: ${code}: ${message}`, [{ code, message }], 400)

for (const engine of [sqlite(), postgres()]) {
  describe(`transfer refusals on ${engine.name}`, () => {
    let ledger: Ledger
    let now = T
    const clock = () => now

    beforeAll(() => engine.setUp(), 60_000)
    afterAll(() => engine.tearDown())
    afterEach(async () => {
      await ledger?.close()
      now = T
    })

    const relayOn = (bank: ReturnType<typeof fakeBank>, log = recordingLog().log) =>
      transferRelay({
        store: ledger.store,
        bank: bank.bank,
        clock,
        random: () => 0.5,
        log,
        leaseMs: 1_000,
        maxAttempts: 3,
        backoff: { baseMs: 1_000, capMs: 60_000 },
        circuitBackoff: { baseMs: 60_000, capMs: 60_000 },
      })

    it('a transfer whose earlier answer was lost is never dead when a later send is refused: it stays open, flagged unresolved with the refusal, and is created once the lookup finds it', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      // Attempt 1: Stark Bank creates it, the answer is lost; its lists lag behind the create.
      bank.onCreate = async (plans: NewTransfer[]) => {
        bank.accept(plans)
        throw timeout()
      }
      bank.onFind = async () => []
      const { log, lines } = recordingLog()
      const relay = relayOn(bank, log)
      expect(await relay.relayOnce()).toMatchObject({ retried: 1, dead: 0 })
      // Attempt 2 on: the re-POST is refused for another field (a WAF, or Stark checking it first).
      bank.onCreate = async () => {
        throw refusal('invalidTaxId', 'the tax id is invalid')
      }
      let dead = 0
      for (let i = 0; i < 4; i++) {
        now += 10 * 60_000
        dead += (await relay.relayOnce()).dead
      }
      expect(dead).toBe(0)
      const t = await ledger.transfer(id)
      expect(t.status).toBe('pending')
      expect(t.unresolved_at).not.toBeNull()
      expect(t.reason).toContain('invalidTaxId')
      expect(await ledger.store.unresolvedTransfers()).toBe(1)
      const alerts = lines.filter((l) => l.level === 'error' && /unresolved/.test(l.msg))
      expect(alerts.length).toBe(1)
      expect(alerts[0]?.fields).toMatchObject({ transferId: id, externalId: id })

      // Still looked up: once the lists show it, it is recorded created, nothing sent twice.
      const lookups = bank.lookups
      bank.onFind = async (listed) => listed
      now += 10 * 60_000
      expect(await relay.relayOnce()).toMatchObject({ created: 1, dead: 0 })
      expect(bank.lookups).toBeGreaterThan(lookups)
      expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
      expect(bank.held.length).toBe(1)
      expect(await ledger.store.unresolvedTransfers()).toBe(0)
    })

    it('a transfer whose relay died mid-call is never dead when the next relay is refused: the claim that takes it over remembers it may be at Stark Bank', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      // A relay claims it, its POST reaches Stark Bank, and it dies before recording anything.
      const { claimed } = await ledger.second.claimTransfers(10, now, 1_000)
      expect(claimed.length).toBe(1)
      bank.accept(claimed.map((c) => c.plan))
      now += 5_000
      // The next relay takes the expired claim over; the lists lag and the re-POST is refused.
      bank.onFind = async () => []
      bank.onCreate = async () => {
        throw refusal('invalidTaxId', 'the tax id is invalid')
      }
      const relay = relayOn(bank)
      let dead = 0
      for (let i = 0; i < 3; i++) {
        dead += (await relay.relayOnce()).dead
        now += 10 * 60_000
      }
      expect(dead).toBe(0)
      const t = await ledger.transfer(id)
      expect(t.status).toBe('pending')
      expect(t.unresolved_at).not.toBeNull()
      expect(t.reason).toContain('invalidTaxId')
      bank.onFind = async (listed) => listed
      expect(await relay.relayOnce()).toMatchObject({ created: 1, dead: 0 })
      expect(bank.held.length).toBe(1)
    })

    it('a 4xx without Stark Bank error list kills no transfer: the circuit opens naming the status, the claims go back, and they are sent once it closes', async () => {
      ledger = await engine.open()
      const ids = [
        await credit(ledger.store, 'inv-1', 10_000),
        await credit(ledger.store, 'inv-2', 20_000),
        await credit(ledger.store, 'inv-3', 30_000),
      ]
      const bank = fakeBank()
      bank.onCreate = async () => {
        throw new BankError(
          'blocked',
          'create transfers refused: HTTP 407 without Stark Bank error list',
          [],
          407,
        )
      }
      const relay = relayOn(bank)
      const first = await relay.relayOnce()
      expect(first).toMatchObject({ dead: 0, created: 0, released: 3 })
      expect(bank.posts).toBe(1)
      expect(relay.readiness()).toContain('HTTP 407')
      for (const id of ids) expect(await ledger.transfer(id)).toMatchObject({ status: 'pending' })

      bank.onCreate = async (plans) => bank.accept(plans)
      now += 2 * 60_000
      expect(await relay.relayOnce()).toMatchObject({ created: 1, dead: 0 })
      expect(relay.readiness()).toBe(true)
      expect(await relay.relayOnce()).toMatchObject({ created: 2, dead: 0 })
      for (const id of ids) expect(await ledger.transfer(id)).toMatchObject({ status: 'created' })
    })

    it('an externalId refusal in any wording or case is never dead; never found, it is flagged unresolved after the retry limit and looked up on', async () => {
      ledger = await engine.open()
      const id = await credit(ledger.store, 'inv-1', 10_000)
      const bank = fakeBank()
      bank.onCreate = async () => {
        throw refusal('InvalidExternalID', 'a transfer with this external id was registered before')
      }
      bank.onFind = async () => []
      const { log, lines } = recordingLog()
      const relay = relayOn(bank, log)
      let dead = 0
      for (let i = 0; i < 6; i++) {
        dead += (await relay.relayOnce()).dead
        now += 10 * 60_000
      }
      expect(dead).toBe(0)
      const t = await ledger.transfer(id)
      expect(t.status).toBe('pending')
      expect(t.unresolved_at).not.toBeNull()
      expect(t.reason).toContain('InvalidExternalID')
      expect(await ledger.store.unresolvedTransfers()).toBe(1)
      expect(lines.filter((l) => l.level === 'error' && /unresolved/.test(l.msg)).length).toBe(1)
      const lookups = bank.lookups
      await relay.relayOnce()
      expect(bank.lookups).toBeGreaterThan(lookups)
    })
  })
}

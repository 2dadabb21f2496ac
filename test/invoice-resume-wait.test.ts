import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { consoleLog } from '../src/adapters/console-log.ts'
import { invoiceIssuer } from '../src/app/issue-invoices.ts'
import { runIdForSlot } from '../src/domain/invoice-batch.ts'
import { seededRandom } from '../src/domain/random.ts'
import { type Bank, BankError, type BankInvoice, type NewInvoice } from '../src/ports/bank.ts'
import type { Store } from '../src/ports/store.ts'
import { type Engine, postgres, sqlite, T } from './support/relay-ledgers.ts'

// Stark Bank invoices have no idempotency key, and its lists lag: after a create whose answer was
// lost, a resume that trusts the lookup too early bills every payer twice. On both ledgers.

const MIN = 60_000

/** Stark Bank's invoices as the issuer sees them: each `create` call scripted; lists hide new ones for `lagMs`. */
function laggingBank(clock: () => number, lagMs: number, script: ('ok' | 'timeout' | 'refuse' | 'hang')[]) {
  const held: (BankInvoice & { at: number })[] = []
  const createCalls: NewInvoice[][] = []
  const bank = {
    async findInvoices(tags: string[]) {
      return held.filter((i) => i.at + lagMs <= clock() && tags.every((t) => i.tags.includes(t)))
    },
    async createInvoices(invoices: NewInvoice[]) {
      createCalls.push(invoices)
      const step = script.shift() ?? 'ok'
      if (step === 'refuse')
        throw new BankError(
          'rejected',
          'create invoices rejected',
          [{ code: 'invalidTaxId', message: 'x' }],
          400,
        )
      const made = invoices.map((inv) => ({
        id: String(6_000_000 + held.length + invoices.indexOf(inv)),
        amount: inv.amount,
        fee: 0,
        status: 'created',
        tags: inv.tags,
        at: clock(),
      }))
      held.push(...made)
      if (step === 'timeout') throw new BankError('transient', 'create invoices timed out after 15000 ms')
      if (step === 'hang') return new Promise<BankInvoice[]>(() => {})
      return made
    },
  } as unknown as Bank
  return { bank, held, createCalls }
}

function issuerWith(store: Store, bank: Bank, clock: () => number, resumeAfterUnknownMs?: number) {
  const lines: Record<string, unknown>[] = []
  const log = consoleLog({ level: 'info', format: 'json', write: (line) => lines.push(JSON.parse(line)) })
  const issuer = invoiceIssuer({ store, bank, clock, random: seededRandom(3), log, resumeAfterUnknownMs })
  return { issuer, lines }
}

for (const make of [sqlite, postgres]) {
  const engine: Engine = make()
  describe(`invoice resume after an unknown outcome on ${engine.name}`, () => {
    beforeAll(() => engine.setUp(), 60_000)
    afterAll(() => engine.tearDown())

    it('creates nothing while Stark Bank lists may lag, and after the wait finds every invoice and creates none again', async () => {
      const ledger = await engine.open()
      let now = T
      const clock = () => now
      const { bank, held, createCalls } = laggingBank(clock, 2 * MIN, ['timeout'])
      const { issuer, lines } = issuerWith(ledger.store, bank, clock)
      const runId = runIdForSlot(new Date(T), 'manual')
      expect(await issuer.runSlot(new Date(T), 'manual')).toEqual({ runId, planned: true, issued: false })
      const planned = held.length
      expect(planned).toBeGreaterThanOrEqual(8)

      now = T + MIN // lists still hide the new invoices
      await issuer.resume()
      expect(createCalls.length).toBe(1)
      expect(held.length).toBe(planned)
      expect((await ledger.store.unfinishedRuns()).map((r) => r.id)).toEqual([runId])
      const wait = lines.find((l) => String(l.msg).includes('resume waits'))
      expect(wait).toMatchObject({ runId, until: new Date(T + 5 * MIN).toISOString() })

      now = T + 5 * MIN + 1_000 // the wait is over and so is the lag
      await issuer.resume()
      expect(createCalls.length).toBe(1)
      expect(held.length).toBe(planned)
      expect(await ledger.store.unfinishedRuns()).toEqual([])
      await ledger.close()
    })

    it('after a definitive refusal the next resume may create at once', async () => {
      const ledger = await engine.open()
      let now = T
      const clock = () => now
      const { bank, held, createCalls } = laggingBank(clock, 2 * MIN, ['refuse'])
      const { issuer } = issuerWith(ledger.store, bank, clock)
      await issuer.runSlot(new Date(T), 'manual')
      expect(held.length).toBe(0)
      now = T + 1_000
      await issuer.resume()
      expect(createCalls.length).toBe(2)
      expect(held.length).toBeGreaterThanOrEqual(8)
      expect(await ledger.store.unfinishedRuns()).toEqual([])
      await ledger.close()
    })

    it('a scheduler taking over a run whose issuer stalled mid-create waits as after a lost answer', async () => {
      const ledger = await engine.open()
      let now = T
      const clock = () => now
      const { bank, held, createCalls } = laggingBank(clock, 15 * MIN, ['hang'])
      const first = issuerWith(ledger.store, bank, clock, 20 * MIN)
      void first.issuer.runSlot(new Date(T), 'manual')
      for (let i = 0; i < 200 && createCalls.length === 0; i++) await Bun.sleep(10)
      expect(createCalls.length).toBe(1)
      const planned = held.length
      now = T + 11 * MIN // the stalled issuer's claim has run out; its create never answered
      const second = issuerWith(ledger.second, bank, clock, 20 * MIN)
      await second.issuer.resume()
      expect(createCalls.length).toBe(1)
      expect(held.length).toBe(planned)
      now = T + 21 * MIN
      await second.issuer.resume()
      expect(createCalls.length).toBe(1)
      expect(await ledger.second.unfinishedRuns()).toEqual([])
      await ledger.close()
    })
  })
}

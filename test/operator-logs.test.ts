import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { consoleLog } from '../src/adapters/console-log.ts'
import { invoiceIssuer } from '../src/app/issue-invoices.ts'
import { recordBankEvent } from '../src/app/record-bank-event.ts'
import { seededRandom } from '../src/domain/random.ts'
import { type Bank, BankError, type BankInvoice, type NewInvoice } from '../src/ports/bank.ts'
import { startRig } from './support/paybridge.ts'
import { DESTINATION, type Engine, postgres, sqlite, T } from './support/relay-ledgers.ts'

// What an operator reads in the log says what happened, no more: a run just planned is issued, not
// "resumed"; the Stripe forwarder announces itself once; a repeated credit queues nothing and says so.

type Line = Record<string, unknown> & { msg: string }

function capture() {
  const lines: Line[] = []
  const log = consoleLog({ level: 'debug', format: 'json', write: (line) => lines.push(JSON.parse(line)) })
  return { log, lines, msgs: (text: string) => lines.filter((l) => l.msg.includes(text)) }
}

/** Stark Bank's invoice calls: the first `failures` create calls are refused (400), the rest answer. */
function invoiceBank(failures: number): Bank {
  let calls = 0
  return {
    findInvoices: async () => [],
    async createInvoices(invoices: NewInvoice[]): Promise<BankInvoice[]> {
      if (calls++ < failures)
        throw new BankError(
          'rejected',
          'create invoices rejected',
          [{ code: 'invalidTaxId', message: 'x' }],
          400,
        )
      return invoices.map((inv, i) => ({
        id: String(7_000_000 + calls * 100 + i),
        amount: inv.amount,
        fee: 0,
        status: 'created',
        tags: inv.tags,
      }))
    },
  } as unknown as Bank
}

const credited = (id: string, invoiceId: string, amount: number) =>
  JSON.stringify({
    event: {
      id,
      subscription: 'invoice',
      created: '2026-06-01T12:00:00+00:00',
      log: {
        id: `${id}9`,
        type: 'credited',
        invoice: { id: invoiceId, amount, fee: 50, status: 'paid', tags: [] },
      },
    },
  })

for (const make of [sqlite, postgres]) {
  const engine: Engine = make()
  describe(`operator logs on ${engine.name}`, () => {
    beforeAll(() => engine.setUp(), 60_000)
    afterAll(() => engine.tearDown())

    it('logs a run just planned as issued, and only a run left unfinished as resumed, with its attempts', async () => {
      const ledger = await engine.open()
      const { log, lines, msgs } = capture()
      const clock = () => T
      const fresh = invoiceIssuer({
        store: ledger.store,
        bank: invoiceBank(0),
        clock,
        random: seededRandom(1),
        log,
      })
      const first = await fresh.runSlot(new Date(T), 'manual')
      expect(first).toMatchObject({ planned: true, issued: true })
      expect(msgs('resuming unfinished invoice run')).toEqual([])
      expect(msgs('issuing invoice run')).toEqual([expect.objectContaining({ runId: first.runId })])

      // A run whose first issue failed is unfinished: the next resume is a resume, and says so.
      const failing = invoiceIssuer({
        store: ledger.store,
        bank: invoiceBank(1),
        clock,
        random: seededRandom(2),
        log,
      })
      const second = await failing.runSlot(new Date(T + 3_600_000), 'manual')
      expect(second).toMatchObject({ planned: true, issued: false })
      lines.length = 0
      await failing.resume()
      expect(msgs('resuming unfinished invoice run')).toEqual([
        expect.objectContaining({ runId: second.runId, attempts: 1 }),
      ])
      expect(msgs('invoice run issued')).toHaveLength(1)
      await ledger.close()
    })

    it('logs a second credited event for an invoice already credited as an anomaly, not as a transfer queued', async () => {
      const ledger = await engine.open()
      const { log, msgs } = capture()
      const record = recordBankEvent({
        store: ledger.store,
        destination: DESTINATION,
        payoutScope: 'all',
        clock: () => T,
        log,
      })
      expect(await record(credited('8100000000000001', '8200000000000001', 10_000))).toEqual({
        kind: 'done',
        note: 'credit',
      })
      expect(await record(credited('8100000000000002', '8200000000000001', 10_500))).toEqual({
        kind: 'done',
        note: 'anomaly',
      })
      expect(msgs('transfer queued')).toEqual([expect.objectContaining({ eventId: '8100000000000001' })])
      expect(msgs('event recorded as an anomaly')).toEqual([
        expect.objectContaining({
          eventId: '8100000000000002',
          reason: expect.stringContaining('credited again'),
        }),
      ])
      await ledger.close()
    })

    it('logs money as integer cents in its fields and as R$ in its texts, at an ISO 8601 UTC time', async () => {
      const ledger = await engine.open()
      const { log, msgs } = capture()
      const text: string[] = []
      const both: typeof log = {
        ...log,
        info: (m, f) => {
          log.info(m, f)
          consoleLog({ format: 'text', write: (line) => text.push(line) }).info(m, f)
        },
      }
      const record = recordBankEvent({
        store: ledger.store,
        destination: DESTINATION,
        payoutScope: 'all',
        clock: () => T,
        log: both,
      })
      await record(credited('8100000000000011', '8200000000000011', 1_234_567))
      await record(credited('8100000000000012', '8200000000000011', 1_300_000))
      const [queued] = msgs('transfer queued')
      expect(queued).toMatchObject({ amountCents: 1_234_567, feeCents: 50, creditedCents: 1_234_517 })
      expect(queued?.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
      expect(text[0]).toMatch(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z INFO {2}invoice credited; transfer queued .*amountCents=1234567 feeCents=50 creditedCents=1234517$/,
      )
      expect(msgs('event recorded as an anomaly')[0]?.reason).toBe(
        'anomaly: invoice 8200000000000011 credited again (amount R$ 13,000.00, fee R$ 0.50); the first credit (R$ 12,345.67 − fee R$ 0.50) stands, nothing changed',
      )
      await ledger.close()
    })
  })
}

describe('paybridge start-up log', () => {
  it('announces the Stripe forwarder once', async () => {
    const rig = await startRig({
      env: {
        STRIPE_SERVICE_URL: 'http://127.0.0.1:9/stripe',
        STRIPE_WEBHOOK_SECRET: 'whsec_operator_logs',
        LOG_LEVEL: 'info',
      },
    })
    try {
      const on = rig.logs.filter((l) => JSON.parse(l).msg.startsWith('Stripe forwarder on'))
      expect(on).toHaveLength(1)
      expect(JSON.parse(on[0] ?? '{}')).toMatchObject({
        queue: 'stripe-events',
        url: expect.stringContaining('/api/v1/Stripe/Webhook'),
      })
    } finally {
      await rig.stop()
    }
  })
})

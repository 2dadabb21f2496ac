import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import * as v from 'valibot'
import { TraceBody, VIEW_ROWS } from '../src/adapters/http/admin-api-schema.ts'
import { ReconciliationBody, StatusBody } from '../src/adapters/http/ledger-report-schema.ts'
import { DAY } from './support/ledger-fixture.ts'
import { plantedAdmins } from './support/planted-admin.ts'

// /admin in the one money and time form: JSON gives integer cents under …_cents / …Cents names and
// ISO 8601 UTC times, as its schemas (and so its OpenAPI document) say; the page shows R$ and ISO times.

const TOKEN = 'admin-token-for-format-tests-7c21'
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

const admins = plantedAdmins({
  token: TOKEN,
  database: 'admin_formats',
})
beforeAll(() => admins.setUp(), 60_000)
afterAll(() => admins.tearDown())
const admin = admins.admin
const get = async (engine: 'sqlite' | 'postgres', path: string) => {
  const res = await admin(engine).request(path, { headers: { Authorization: `Bearer ${TOKEN}` } })
  expect({ path, status: res.status }).toEqual({ path, status: 200 })
  return res
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`admin JSON forms on ${engine}`, () => {
    it('answers views with integer cents under _cents fields and ISO 8601 UTC times', async () => {
      const invoices = v.parse(
        v.array(VIEW_ROWS.invoices),
        await (await get(engine, '/admin/api/invoices')).json(),
      )
      expect(invoices.find((r) => r.invoice === 'inv-b')).toMatchObject({
        amount_cents: 20000,
        paid_cents: 20000,
        fee_cents: 100,
        credited: '2026-03-01T10:01:01.000Z',
      })
      const transfers = v.parse(
        v.array(VIEW_ROWS.transfers),
        await (await get(engine, '/admin/api/transfers')).json(),
      )
      expect(transfers.every((t) => Number.isSafeInteger(t.amount_cents) && ISO_UTC.test(t.updated))).toBe(
        true,
      )
    })

    it('answers a trace with ISO 8601 UTC times and integer cents', async () => {
      const trace = v.parse(TraceBody, await (await get(engine, '/admin/api/trace/sb')).json())
      expect(trace.steps.every((s) => s.at !== null && ISO_UTC.test(s.at))).toBe(true)
      expect(trace.steps.find((s) => s.step === 'transfer')?.detail).toMatchObject({ amount_cents: 19000 })
    })
  })
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`admin reconciliation, status and page forms on ${engine}`, () => {
    it('answers the reconciliation with integer cents under …Cents names, as its schema says', async () => {
      const result = v.parse(
        ReconciliationBody,
        await (await get(engine, `/admin/api/reconcile?day=${DAY}`)).json(),
      )
      expect(result.days[0]).toMatchObject({
        creditedCents: 45_740,
        transfersCreatedCents: 33_950,
        transfersConfirmedCents: 9950,
      })
      expect(result.mismatches[0]).toMatchObject({ creditedCents: 19_900, transferredCents: 19_000 })
    })

    it('answers the status numbers with ISO 8601 UTC times, as its schema says', async () => {
      const status = v.parse(StatusBody, await (await get(engine, '/admin/api/status')).json())
      expect(status.at).toBe('2026-03-02T12:00:00.000Z')
      expect(status.dead.length).toBeGreaterThan(0)
      expect(status.dead.every((d) => ISO_UTC.test(d.at))).toBe(true)
      expect(status.counts.queues.every((q) => ISO_UTC.test(q.oldestSentAt))).toBe(true)
      expect(status.reconciliation.days.find((d) => d.day === DAY)).toMatchObject({ creditedCents: 45_740 })
    })

    it('shows people R$ and ISO 8601 UTC times on the page', async () => {
      const page = await (await get(engine, '/admin')).text()
      expect(page).toContain('status at 2026-03-02T12:00:00.000Z')
      expect(page).toContain('<td>R$ 457.40</td>')
      expect(page).toContain('credited R$ 199.00 but transfer paybridge-invoice-sb is R$ 190.00')
      expect(page).toMatch(/<td>2026-03-01T10:01:11\.000Z<\/td>/)
      expect(page).not.toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/)
    })
  })
}

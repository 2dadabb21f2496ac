import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type Rig, startRig } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// Over real HTTP to the emulator: Stark Bank creates a run's invoices but the answer is lost, and the
// payers pay before the scheduler's resume. The credits must find their planned invoices by
// paybridge's tag, and the resume must then finish the run instead of failing on it forever.

describe('an invoice run whose create answer was lost', () => {
  let rig: Rig
  beforeAll(async () => {
    rig = await startRig({ payShare: 1 })
  }, 60_000)
  afterAll(() => rig.stop())

  const rows = <T>(sql: string, ...args: string[]) => rig.ledgerFile.sqlite.query(sql).all(...args) as T[]

  it('credits the planned invoices the payers paid first, and the next resume marks the run issued', async () => {
    rig.emulator.fail('POST /v2/invoice', { status: 500, afterProcessing: true })
    const first = await rig.paybridge.issueInvoicesNow()
    expect(first).toMatchObject({ planned: true, issued: false })
    const atBank = rig.emulator.invoices()
    expect(atBank.length).toBeGreaterThanOrEqual(8)
    await waitFor(
      'every invoice paid and transferred',
      () => rig.emulator.transfers().length === atBank.length,
    )
    // Every credit landed on its planned invoice (no external-<id> rows), each paid out once.
    expect(rows<{ id: string }>("select id from invoices where id like 'external-%'")).toEqual([])
    const planned = rows<{ stark_id: string; status: string }>(
      'select stark_id, status from invoices where run_id = ? order by id',
      first.runId,
    )
    expect(planned.map((i) => i.status)).toEqual(atBank.map(() => 'credited'))
    expect(planned.map((i) => i.stark_id).sort()).toEqual(atBank.map((i) => i.id).sort())

    await Bun.sleep(5) // manual runs are named by the millisecond
    await rig.paybridge.issueInvoicesNow()
    expect(rows<{ status: string }>('select status from scheduler_runs where id = ?', first.runId)).toEqual([
      { status: 'issued' },
    ])
    for (const invoice of atBank)
      expect(
        rig.emulator.transfers().filter((t) => t.externalId === `paybridge-invoice-${invoice.id}`).length,
      ).toBe(1)
  })
})

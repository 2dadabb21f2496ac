import { afterEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { ConfigError, loadConfig } from '../src/config.ts'
import { budgetClaims, checkTransferLimits } from '../src/domain/transfer-limits.ts'
import { type Rig, startRig } from './support/paybridge.ts'
import { runCli } from './support/process.ts'
import { waitFor } from './support/wait.ts'

// Money safety rails: per-transfer and daily caps hold transfers for an operator; a pause holds all.

const rigs: Rig[] = []
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.stop()
})

const outbox = (rig: Rig) =>
  rig.ledgerFile.sqlite.query('select status, count(*) as n from outbox group by status').all() as {
    status: string
    n: number
  }[]

describe('transfer limits (domain)', () => {
  const limits = { maxPerTransfer: 1_000, maxPerDay: 2_500 }
  it('sends under both caps, holds over either, and sends an approved one regardless', () => {
    expect(checkTransferLimits(limits, 1_000, 1_500, false)).toEqual({ kind: 'send' })
    expect(checkTransferLimits(limits, 1_001, 0, false).kind).toBe('hold')
    expect(checkTransferLimits(limits, 900, 1_700, false).kind).toBe('hold')
    expect(checkTransferLimits(limits, 50_000, 1_000_000, true)).toEqual({ kind: 'send' })
  })

  it('reserves each row sent for the rows after it, and never holds a row reserved before', () => {
    const row = (amount: number, reserved = false, approved = false) => ({ amount, reserved, approved })
    const daily = { maxPerTransfer: 10_000, maxPerDay: 2_500 }
    const kinds = budgetClaims(daily, 500, [
      row(1_000),
      row(1_100),
      row(900, true),
      row(900, false, true),
      row(200),
    ])
    // 500 + 1000 fits; + 1100 would pass 2500; a reserved row goes unchecked (already counted); an
    // approved one goes and reserves (2400); then 200 fits no more.
    expect(kinds.map((k) => k.kind)).toEqual(['send', 'hold', 'send', 'send', 'hold'])
  })
})

describe('money safety rails, end to end', () => {
  it('holds transfers over the per-transfer cap until `ledger approve`, and sends the rest', async () => {
    const rig = await startRig({ payShare: 1, env: { TRANSFER_MAX_AMOUNT: '100000' } })
    rigs.push(rig)
    await rig.paybridge.issueInvoicesNow()
    const invoices = rig.emulator.invoices()
    const over = invoices.filter((i) => i.amount - (i.fee ?? 0) > 100_000)
    const under = invoices.length - over.length
    expect(over.length).toBeGreaterThan(0) // amounts reach R$ 5,000.00; the cap is R$ 1,000.00
    await waitFor('the ones under the cap sent, the others held', () => {
      const held = outbox(rig).find((r) => r.status === 'held')?.n ?? 0
      return rig.emulator.transfers().length === under && held === over.length
    })
    const heldId = `paybridge-invoice-${over[0]!.id}`
    const row = rig.ledgerFile.sqlite
      .query('select status, reason from transfers where id = ?')
      .get(heldId) as {
      status: string
      reason: string
    }
    expect(row.status).toBe('held')
    expect(row.reason).toContain('over the per-transfer limit R$ 1,000.00')

    const approve = Bun.spawn([process.execPath, 'run', 'src/main.ts', 'ledger', 'approve', heldId], {
      cwd: join(import.meta.dir, '..'),
      env: { ...process.env, DATABASE_PATH: rig.config.databasePath },
      stderr: 'pipe',
    })
    expect(await approve.exited).toBe(0)
    await waitFor('the approved transfer sent', () =>
      rig.emulator.transfers().some((t) => t.externalId === heldId),
    )
    expect(rig.emulator.transfers().length).toBe(under + 1)
    await waitFor('the ledger to record it created', () => {
      const row = rig.ledgerFile.sqlite.query('select status from transfers where id = ?').get(heldId) as {
        status: string
      }
      return row.status === 'created'
    })
    const again = await runCli(['ledger', 'approve', heldId], {
      ...process.env,
      DATABASE_PATH: rig.config.databasePath,
    })
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('is created, not held')
  })

  it('holds everything while TRANSFERS_PAUSED=true and loses nothing', async () => {
    const rig = await startRig({ payShare: 1, env: { TRANSFERS_PAUSED: 'true' } })
    rigs.push(rig)
    await rig.paybridge.issueInvoicesNow()
    const total = rig.emulator.invoices().length
    await waitFor(
      'every credit recorded',
      () => (outbox(rig).find((r) => r.status === 'pending')?.n ?? 0) === total,
    )
    await Bun.sleep(300)
    expect(rig.emulator.transfers().length).toBe(0)
    expect(rig.logs.some((l) => l.includes('transfers are paused'))).toBe(true)
  })
})

describe('production start-up', () => {
  it('refuses STARK_ENVIRONMENT=production without an explicit destination account', () => {
    let problems: string[] = []
    try {
      loadConfig({
        STARK_ENVIRONMENT: 'production',
        STARK_PROJECT_ID: '123',
        STARK_PRIVATE_KEY: generateKeyPair().privatePem,
        TRANSFER_NAME: 'Acme',
        TRANSFER_TAX_ID: '20.018.183/0001-80',
      })
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems
    }
    expect(problems).toEqual([
      'TRANSFER_BANK_CODE, TRANSFER_BRANCH_CODE, TRANSFER_ACCOUNT_NUMBER, TRANSFER_ACCOUNT_TYPE: must be set explicitly when STARK_ENVIRONMENT=production (no default destination for real money)',
    ])
  })
})

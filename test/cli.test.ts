import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { COMMANDS } from '../src/adapters/cli/commands.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { type BankEvent, decideBankEvent } from '../src/domain/bank-event.ts'
import { planTransfer } from '../src/domain/transfer.ts'
import type { Store } from '../src/ports/store.ts'
import { cliLedgers } from './support/cli-ledgers.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { runCli } from './support/process.ts'

// The command line as an operator meets it: `bun run src/main.ts …` in a real process.

const dir = tempDir('paybridge-cli-')
const VERSION = JSON.parse(readFileSync(join(import.meta.dir, '../package.json'), 'utf8')).version
// No command here may need the configuration to answer --help: a broken one must not hide the help.
const BROKEN_CONFIG = { PORT: 'not-a-port', LOG_LEVEL: 'error' }
const sqliteEnv = () => ({ DATABASE_PATH: join(dir.path, 'ledger.sqlite'), LOG_LEVEL: 'error' })

let pg: Postgres | undefined
beforeAll(async () => {
  // The operator commands read an existing ledger (a missing file is refused): make the SQLite one.
  openLedger(sqliteEnv().DATABASE_PATH).close()
  pg = await startPostgres()
}, 60_000)
afterAll(async () => {
  await pg?.stop()
  dir.cleanup()
})

describe('the command line', () => {
  it('prints every command with --help, help or -h, exit 0, without reading the configuration', async () => {
    for (const flag of ['--help', 'help', '-h']) {
      const result = await runCli([flag], BROKEN_CONFIG)
      expect([result.code, result.stderr]).toEqual([0, ''])
      for (const command of COMMANDS) expect(result.stdout).toContain(`  ${command.name}`)
    }
  })

  it("prints each command's own usage with --help or -h, exit 0, even where it takes an argument", async () => {
    for (const [i, command] of COMMANDS.entries()) {
      // Each spawn costs a second or more on a busy machine: the two spellings take turns.
      const flag = i % 2 === 0 ? '--help' : '-h'
      const result = await runCli([...command.name.split(' '), flag], BROKEN_CONFIG)
      expect([command.name, flag, result.code, result.stderr]).toEqual([command.name, flag, 0, ''])
      expect(result.stdout).toStartWith(`usage: bun run src/main.ts ${command.name}`)
      expect(result.stdout).toContain(command.summary)
      for (const option of Object.keys(command.options)) expect(result.stdout).toContain(`--${option}`)
    }
    // Today's complaint: `ledger --help` was read as a view named "--help".
    const ledger = await runCli(['ledger', '--help'], BROKEN_CONFIG)
    expect(ledger.stdout).not.toContain('unknown ledger view')
    expect(ledger.stdout).toContain('views: runs, invoices, events, transfers')
  }, 120_000)

  it("prints package.json's version with --version", async () => {
    const result = await runCli(['--version'], BROKEN_CONFIG)
    expect([result.code, result.stdout, result.stderr]).toEqual([0, `${VERSION}\n`, ''])
  })

  it("refuses an unknown option or a missing argument with that command's usage, exit 2", async () => {
    const unknown = await runCli(['forwards', 'replay', '--dead', '--bogus'], sqliteEnv())
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toStartWith("paybridge: forwards replay: Unknown option '--bogus'\n")
    expect(unknown.stderr).toContain('usage: bun run src/main.ts forwards replay [--dead]')
    expect(unknown.stdout).toBe('')

    const missing = await runCli(['ledger', 'approve'], sqliteEnv())
    expect(missing.code).toBe(2)
    expect(missing.stderr).toStartWith('paybridge: ledger approve: missing <transfer id>\n')
    expect(missing.stderr).toContain('usage: bun run src/main.ts ledger approve <transfer id>')

    const extra = await runCli(['keys', 'create', 'now'], sqliteEnv())
    expect([extra.code, extra.stderr.split('\n')[0]]).toEqual([2, 'paybridge: keys create: unexpected "now"'])

    const command = await runCli(['ledgr', 'approve'], sqliteEnv())
    expect(command.code).toBe(2)
    expect(command.stderr).toStartWith('paybridge: unknown command "ledgr approve"\n')
  })

  it('takes --name=value as --name value', async () => {
    const spaced = await runCli(
      ['forwards', 'replay', '--since', '2026-11-25T12:00Z', '--dry-run'],
      sqliteEnv(),
    )
    const joined = await runCli(['forwards', 'replay', '--since=2026-11-25T12:00Z', '--dry-run'], sqliteEnv())
    expect([spaced.code, spaced.stderr]).toEqual([0, ''])
    expect(spaced.stdout).toBe('no forwards match received since 2026-11-25T12:00:00.000Z\n')
    expect(joined).toEqual(spaced)
    const id = await runCli(['ledger', 'dead-letters', 'replay', '--id=7'], sqliteEnv())
    expect([id.code, id.stderr]).toEqual([1, 'paybridge: no dead letter 7\n'])
  })

  it('names a bad emulator variable and exits 2 instead of failing with a stack', async () => {
    const result = await runCli(['emulator'], { EMULATOR_PORT: 'ninety' })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'paybridge: invalid configuration:\n  - EMULATOR_PORT: must be a whole number ≥ 0\n',
    )
  })
})

const DESTINATION = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

/** One credited invoice whose transfer the limits hold; its transfer id. */
async function heldTransfer(store: Store, now: number): Promise<string> {
  const event: BankEvent = {
    id: '6100000000000001',
    subscription: 'invoice',
    created: new Date(now).toISOString(),
    log: {
      id: '7100000000000001',
      type: 'credited',
      invoice: { id: '5100000000000001', amount: 10_000, fee: 50, status: 'paid', tags: [] },
    },
  }
  const transfer = planTransfer('5100000000000001', 9_950, DESTINATION)
  const decision = decideBankEvent(event, 'all')
  await store.recordBankEvent({ event, payload: JSON.stringify({ event }), decision, transfer }, now)
  const { held } = await store.claimTransfers(10, now, 60_000, { maxPerTransfer: 1, maxPerDay: 1_000_000 })
  expect(held.map((h) => h.transferId)).toEqual([transfer.externalId])
  return transfer.externalId
}

const engines = cliLedgers(dir.path, 'approve_cli', () => pg)

for (const engine of engines) {
  describe(`ledger approve on ${engine.name}`, () => {
    it('releases a held transfer once, then says it is no longer held, and names an unknown one', async () => {
      const { store, env, close } = await engine.open()
      try {
        const id = await heldTransfer(store, Date.now())
        const cli = (args: string[]) => runCli(['ledger', 'approve', ...args], { ...env, LOG_LEVEL: 'info' })
        const approved = await cli([id])
        expect(approved.code).toBe(0)
        expect(approved.stderr).toContain('transfer approved; the relay sends it next')
        expect(approved.stderr).toContain(id)
        expect(await cli([id])).toMatchObject({
          code: 1,
          stderr: `paybridge: transfer "${id}" is pending, not held\n`,
        })
        expect(await cli(['transfer:nope'])).toMatchObject({
          code: 1,
          stderr: 'paybridge: no transfer "transfer:nope"\n',
        })
      } finally {
        await close()
      }
    })
  })
}

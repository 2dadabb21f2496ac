import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type BankEvent, decideBankEvent } from '../src/domain/bank-event.ts'
import { planTransfer } from '../src/domain/transfer.ts'
import type { Store } from '../src/ports/store.ts'
import { cliLedgers } from './support/cli-ledgers.ts'
import { tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { runCli } from './support/process.ts'

// `ledger transfers replay --dead [--dry-run]` as an operator runs it, against the SQLite file and
// against PostgreSQL through DATABASE_URL.

const T = Date.now()
const DESTINATION = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

async function deadAndCreated(store: Store): Promise<{ dead: string; created: string }> {
  const ids: string[] = []
  for (const invoiceId of ['5000000000000001', '5000000000000002']) {
    const event: BankEvent = {
      id: `600000000000000${ids.length}`,
      subscription: 'invoice',
      created: new Date(T).toISOString(),
      log: {
        id: `700000000000000${ids.length}`,
        type: 'credited',
        invoice: { id: invoiceId, amount: 10_000, fee: 50, status: 'paid', tags: [] },
      },
    }
    const decision = decideBankEvent(event, 'all')
    const transfer = planTransfer(invoiceId, 9_950, DESTINATION)
    await store.recordBankEvent({ event, payload: JSON.stringify({ event }), decision, transfer }, T)
    ids.push(transfer.externalId)
  }
  const { claimed } = await store.claimTransfers(10, T, 60_000)
  const [a, b] = [claimed.find((c) => c.transferId === ids[0]), claimed.find((c) => c.transferId === ids[1])]
  await store.transferDead(a!, 'invalidAccountNumber: the account does not exist', T)
  await store.transferCreated(b!, { id: '8000000000000001', status: 'created' }, T)
  return { dead: ids[0]!, created: ids[1]! }
}

const dir = tempDir('paybridge-replay-cli-')
let pg: Postgres | undefined
beforeAll(async () => {
  pg = await startPostgres()
}, 60_000)
afterAll(async () => {
  await pg?.stop()
  dir.cleanup()
})

const engines = cliLedgers(dir.path, 'replay_cli', () => pg)

for (const engine of engines) {
  describe(`ledger transfers replay on ${engine.name}`, () => {
    it('lists dead transfers on --dry-run, then puts them back in the outbox with a fresh retry count', async () => {
      const { store, env, close } = await engine.open()
      try {
        const { dead, created } = await deadAndCreated(store)
        const cli = (args: string[]) =>
          runCli(['ledger', 'transfers', 'replay', ...args], { ...process.env, ...env, LOG_LEVEL: 'error' })

        const dry = await cli(['--dead', '--dry-run'])
        expect([dry.code, dry.stderr]).toEqual([0, ''])
        expect(dry.stdout).toContain(dead)
        expect(dry.stdout).toContain('invalidAccountNumber')
        expect(dry.stdout).not.toContain(created)
        expect(dry.stdout).toContain('dry run: nothing changed')
        expect((await store.claimTransfers(10, Date.now(), 60_000)).claimed).toEqual([])

        const real = await cli(['--dead'])
        expect(real.code).toBe(0)
        expect(real.stdout).toContain(dead)
        const { claimed } = await store.claimTransfers(10, Date.now(), 60_000)
        expect(claimed.map((c) => [c.transferId, c.tries, c.plan.externalId])).toEqual([[dead, 1, dead]])

        expect((await cli(['--dead'])).stdout).toContain('no dead transfers')
        expect((await cli(['--dead', '--transfer', created])).code).toBe(1)
        expect((await cli([])).code).toBe(2)
      } finally {
        await close()
      }
    }, 60_000)
  })
}

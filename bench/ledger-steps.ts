/**
 * The SQLite ledger's two hot steps on their own, no network: recording credited events (a whole
 * receive per transaction, as the worker does) and claiming + marking created (a relay batch of 100).
 *
 *   npx bun run bench/ledger-steps.ts [events=6400] [batch=32]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { parseBankEvent } from '../src/app/bank-event-schema.ts'
import { decideBankEvent } from '../src/domain/bank-event.ts'
import { planTransfer } from '../src/domain/transfer.ts'

const total = Number(process.argv[2] ?? 6400)
const batch = Number(process.argv[3] ?? 32)
const destination = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

const dir = mkdtempSync(join(tmpdir(), 'paybridge-ledger-steps-'))
const ledger = openLedger(join(dir, 'ledger.sqlite'))
const store = sqliteStore(ledger)
const inputs = Array.from({ length: total }, (_, i) => {
  const body = JSON.stringify({
    event: {
      id: `${4_100_000_000_000_000 + i}`,
      subscription: 'invoice',
      created: '2026-11-25T12:00:00+00:00',
      log: {
        id: `${4_200_000_000_000_000 + i}`,
        type: 'credited',
        invoice: { id: `${4_300_000_000_000_000 + i}`, amount: 10_000, fee: 50, status: 'paid', tags: [] },
      },
    },
  })
  const parsed = parseBankEvent(body)
  if (!parsed.ok) throw new Error(parsed.reason)
  const decision = decideBankEvent(parsed.event, 'all')
  const transfer =
    decision.kind === 'credit' ? planTransfer(decision.invoiceId, decision.credited, destination) : undefined
  return { event: parsed.event, payload: body, decision, ...(transfer ? { transfer } : {}) }
})

let started = performance.now()
for (let i = 0; i < total; i += batch) await store.recordBankEvents(inputs.slice(i, i + batch), Date.now())
const recordRate = total / ((performance.now() - started) / 1000)

started = performance.now()
let relayed = 0
for (;;) {
  const { claimed } = await store.claimTransfers(100, Date.now(), 60_000)
  if (claimed.length === 0) break
  relayed += claimed.length
  await store.transfersCreated(
    claimed.map((c) => ({
      claim: c,
      bank: { id: `bank-${c.transferId}`, status: 'created' },
    })),
    Date.now(),
  )
}
const relayRate = relayed / ((performance.now() - started) / 1000)
ledger.close()
rmSync(dir, { recursive: true, force: true })

console.log(`\nSQLite ledger steps, ${total} credited events (bun ${Bun.version})`)
console.table([
  { step: `record events, ${batch} per transaction`, 'per second': Math.round(recordRate) },
  { step: 'claim 100 transfers + mark them created', 'per second': Math.round(relayRate) },
])

/**
 * The ledger's hot steps on their own, on SQLite and on a throwaway PostgreSQL in the same run
 * (loopback, no other network): recording credited events (a whole receive per transaction, as the
 * worker does), claiming + marking created (a relay batch of 100), and recording the transfer events
 * Stark Bank sends for those transfers (processing, then success, a receive per transaction). On
 * PostgreSQL it also counts the statements (each one a round trip) per transaction, from
 * pg_stat_statements.
 *
 *   npx bun run bench/ledger-steps.ts [events=6400] [batch=32]
 *
 * The PostgreSQL rows need its server binaries (`apt-get install -y postgresql`).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'
import { openPgLedger } from '../src/adapters/ledger/postgres/database.ts'
import { postgresStore } from '../src/adapters/ledger/postgres/store.ts'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { parseBankEvent } from '../src/app/bank-event-schema.ts'
import { decideBankEvent } from '../src/domain/bank-event.ts'
import { planTransfer } from '../src/domain/transfer.ts'
import type { Store } from '../src/ports/store.ts'
import { startPostgres } from '../test/support/postgres.ts'
import { machineLine } from './support/machine.ts'

const total = Number(process.argv[2] ?? 6400)
const batch = Number(process.argv[3] ?? 32)
const RELAY_BATCH = 100
// The relay's default limits (TRANSFER_MAX_AMOUNT, TRANSFER_MAX_DAILY_AMOUNT): every claim budgets.
const limits = { maxPerTransfer: 1_000_000, maxPerDay: 100_000_000_000 }
const destination = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

/** `total` credited events of invoices paybridge did not issue, numbered from `from`. */
const creditedEvents = (from: number) =>
  Array.from({ length: total }, (_, n) => {
    const i = from + n
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
      decision.kind === 'credit'
        ? planTransfer(decision.invoiceId, decision.credited, destination)
        : undefined
    return { event: parsed.event, payload: body, decision, ...(transfer ? { transfer } : {}) }
  })
const inputs = [creditedEvents(0), creditedEvents(total)] as const

/** The next Stark Bank id a transfer marked created gets (Stark Bank ids are digit strings). */
let starkIds = 4_600_000_000_000_000

/** A transfer event for each created transfer (by its Stark Bank id and externalId), `status` each. */
const transferEvents = (created: { transferId: string; starkId: string }[], status: string, from: number) =>
  created.map(({ transferId, starkId }, n) => {
    const i = from + n
    const body = JSON.stringify({
      event: {
        id: `${4_400_000_000_000_000 + i}`,
        subscription: 'transfer',
        created: '2026-11-25T12:00:00+00:00',
        log: {
          id: `${4_500_000_000_000_000 + i}`,
          type: status,
          transfer: { id: starkId, amount: 9_950, status, tags: [], externalId: transferId },
        },
      },
    })
    const parsed = parseBankEvent(body)
    if (!parsed.ok) throw new Error(parsed.reason)
    return { event: parsed.event, payload: body, decision: decideBankEvent(parsed.event, 'all') }
  })

/** Statements run on the ledger's database since the last `reset()` (undefined: not counted). */
interface StatementCount {
  reset(): Promise<void>
  count(): Promise<number | undefined>
}
const uncounted: StatementCount = { reset: async () => undefined, count: async () => undefined }

async function steps(engine: string, store: Store, statements: StatementCount) {
  const per = (n: number | undefined, of: number) => (n === undefined ? '—' : (n / of).toFixed(1))
  const record = async (events: Parameters<Store['recordBankEvents']>[0]) => {
    await statements.reset()
    const started = performance.now()
    let transactions = 0
    for (let i = 0; i < events.length; i += batch) {
      await store.recordBankEvents(events.slice(i, i + batch), Date.now())
      transactions++
    }
    const rate = events.length / ((performance.now() - started) / 1000)
    return { rate, statements: per(await statements.count(), transactions) }
  }
  const relay = async (withLimits: boolean) => {
    await statements.reset()
    const started = performance.now()
    const created: { transferId: string; starkId: string }[] = []
    let claims = 0
    for (;;) {
      const { claimed } = await store.claimTransfers(
        RELAY_BATCH,
        Date.now(),
        60_000,
        withLimits ? limits : undefined,
      )
      claims++
      if (claimed.length === 0) break
      // One Stark Bank id per transfer, never reused by the second relay.
      const marked = claimed.map((c) => ({ claim: c, bank: { id: `${starkIds++}`, status: 'created' } }))
      for (const m of marked) created.push({ transferId: m.claim.transferId, starkId: m.bank.id })
      await store.transfersCreated(marked, Date.now())
    }
    if (created.length !== total)
      throw new Error(`${engine}: ${created.length} of ${total} transfers claimed and created`)
    const rate = created.length / ((performance.now() - started) / 1000)
    // Per full batch: a claim and its mark-created; the last, empty claim is counted in.
    return { rate, statements: per(await statements.count(), claims - 1), created }
  }
  const row = (step: string, m: { rate: number; statements: string }) => ({
    engine,
    step,
    'per second': Math.round(m.rate),
    'statements each': m.statements,
  })
  const recorded = await record(inputs[0])
  const relayed = await relay(false)
  await record(inputs[1])
  const budgeted = await relay(true)
  // Each transfer's processing, then its success: a receive of events for different transfers.
  const statusEvents = [
    ...transferEvents(relayed.created, 'processing', 0),
    ...transferEvents(relayed.created, 'success', total),
  ]
  const statuses = await record(statusEvents)
  return [
    row(`record events, ${batch} per transaction`, recorded),
    row(`claim ${RELAY_BATCH} transfers + mark them created`, relayed),
    row(`the same with the daily limits (the relay's default)`, budgeted),
    row(`record transfer events, ${batch} per transaction`, statuses),
  ]
}

async function onSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-ledger-steps-'))
  const ledger = openLedger(join(dir, 'ledger.sqlite'))
  try {
    return await steps('SQLite', sqliteStore(ledger), uncounted)
  } finally {
    ledger.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function onPostgres() {
  const pg = await startPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements' } })
  try {
    const url = await pg.createDatabase('ledger_steps')
    const ledger = await openPgLedger(url)
    const admin = new SQL({ url, max: 1 })
    await admin`create extension pg_stat_statements`
    // Statements of the ledger's own database; the reset and the count themselves are left out.
    const statements: StatementCount = {
      reset: async () => {
        await admin`select pg_stat_statements_reset()`
      },
      count: async () => {
        const [row] = await admin`
          select coalesce(sum(calls), 0)::int as n from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database())
            and query not like '%pg_stat_statements%'`
        return (row as { n: number }).n
      },
    }
    try {
      return await steps('PostgreSQL', postgresStore(ledger), statements)
    } finally {
      await admin.close()
      await ledger.close()
    }
  } finally {
    await pg.stop()
  }
}

const rows = [...(await onSqlite()), ...(await onPostgres())]
console.log(`\nledger steps, ${total} credited events, SQLite file and PostgreSQL on loopback`)
console.log(machineLine())
console.table(rows)

import { join } from 'node:path'
import { SQL } from 'bun'
import { type OpenLedger, openLedgerStores } from '../../src/adapters/ledger/open.ts'
import type { Ledger } from '../../src/adapters/ledger/sqlite/database.ts'
import { type BankEvent, decideBankEvent } from '../../src/domain/bank-event.ts'
import { planTransfer, transferIdFor } from '../../src/domain/transfer.ts'
import { tempDir } from './paybridge.ts'
import type { Postgres } from './postgres.ts'

export const DESTINATION = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

/** 2026-03-01 and the day before, at 10:00 UTC. */
export const DAY = '2026-03-01'
export const T = Date.UTC(2026, 2, 1, 10, 0, 0)
export const PREVIOUS_DAY = '2026-02-28'
export const T0 = Date.UTC(2026, 1, 28, 10, 0, 0)
/** "Now" for the fixture: the next day, long after every step. */
export const NOW = Date.UTC(2026, 2, 2, 12, 0, 0)

export interface PlantedLedger {
  /** The SQLite file. */
  ledger: Ledger
  /** The same ledger as the service opens it (store, forwards, views). */
  stores: OpenLedger
  cleanup(): Promise<void>
}

function creditEvent(id: string, invoice: { id: string; amount: number; fee: number }): BankEvent {
  return {
    id,
    subscription: 'invoice',
    created: new Date(T).toISOString(),
    log: { id: `log-${id}`, type: 'credited', invoice: { ...invoice, status: 'paid', tags: [] } },
  }
}

function transferEvent(id: string, transfer: { id: string; amount: number; status: string }): BankEvent {
  return {
    id,
    subscription: 'transfer',
    created: new Date(T).toISOString(),
    log: { id: `log-${id}`, type: transfer.status, transfer: { ...transfer, tags: [] } },
  }
}

/**
 * A real ledger (real migrations), written through the real Store steps, with known rows:
 *
 * - 2026-02-28: invoice `inv-z` (stark `sz`) 3000 − 30 credited, transferred and confirmed: a clean day.
 * - 2026-03-01, run `run-1` of six invoices (stark `sa`…`sf`):
 *   - `inv-a` 10000 − 50 credited → transfer created → Stark Bank `success` (confirmed);
 *   - `inv-b` 20000 − 100 credited → transfer created, then PLANTED: its amount rewritten to 19000;
 *   - `inv-c` 5000 − 0 credited → transfer created → Stark Bank `failed`;
 *   - `inv-d` 7000 − 70 credited, then PLANTED: its transfer and outbox row deleted;
 *   - `inv-e` issued, never credited;
 *   - `inv-f` 4000 − 40 credited → transfer rejected (dead, outbox dead).
 * - one dead letter on `stark-events`, and (SQLite only: the embedded queue lives in the file) one
 *   message waiting on `stark-events` sent 90 s before NOW;
 * - Stripe forwards `evt_ok` (delivered) and `evt_bad` (dead: HTTP 400).
 */
export async function plantLedger(): Promise<PlantedLedger> {
  const dir = tempDir('paybridge-ledger-')
  const stores = await openLedgerStores({
    databaseUrl: undefined,
    databasePath: join(dir.path, 'ledger.sqlite'),
  })
  const ledger = stores.sqlite as Ledger
  await plant(stores, async (sql) => void ledger.sqlite.run(sql))
  ledger.sqlite.run(
    `INSERT INTO queue_messages (id, queue, body, sent_at, visible_at, receive_count)
     VALUES ('msg-waiting', 'stark-events', '{}', ?, ?, 0)`,
    [NOW - 90_000, NOW - 90_000],
  )
  return {
    ledger,
    stores,
    async cleanup() {
      await stores.close()
      dir.cleanup()
    },
  }
}

/** The same planted ledger in the (empty, new) PostgreSQL database at `url`. */
export async function plantPostgresLedger(url: string): Promise<OpenLedger> {
  const stores = await openLedgerStores({ databaseUrl: url, databasePath: '/nonexistent/unused.db' })
  const client = new SQL({ url, max: 1 })
  try {
    await plant(stores, async (sql) => void (await client.unsafe(sql)))
  } finally {
    await client.close()
  }
  return stores
}

/** The planted ledger on either engine, with a way to plant more or look beside paybridge. */
export interface PlantedStores {
  engine: 'sqlite' | 'postgres'
  stores: OpenLedger
  /** The PostgreSQL ledger's URL (DATABASE_URL); undefined on SQLite. */
  url?: string
  /** Runs SQL with `?` parameters on the ledger's own connection. */
  exec(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  cleanup(): Promise<void>
}

let databases = 0

/** `plantLedger` (SQLite) or `plantPostgresLedger` (a new database on `server`), as `PlantedStores`. */
export async function plantLedgerOn(
  engine: 'sqlite' | 'postgres',
  server?: Postgres,
): Promise<PlantedStores> {
  if (engine === 'sqlite') {
    const planted = await plantLedger()
    const exec = async (sql: string, params: unknown[] = []) =>
      planted.ledger.sqlite.query(sql).all(...(params as never[])) as Record<string, unknown>[]
    return { engine, stores: planted.stores, exec, cleanup: planted.cleanup }
  }
  if (!server) throw new Error('plantLedgerOn: a PostgreSQL ledger needs the server to create it on')
  const url = await server.createDatabase(`planted_${++databases}`)
  const stores = await plantPostgresLedger(url)
  const client = new SQL({ url, max: 1 })
  const exec = async (sql: string, params: unknown[] = []) => {
    let n = 0
    return [
      ...((await client.unsafe(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      )) as Record<string, unknown>[]),
    ]
  }
  return {
    engine,
    stores,
    url,
    exec,
    async cleanup() {
      await client.close()
      await stores.close()
    },
  }
}

/** Fills `stores` through its steps; `exec` runs the planted damage (plain SQL both engines read). */
async function plant(stores: OpenLedger, exec: (sql: string) => Promise<void>): Promise<void> {
  const { store } = stores

  const credit = async (
    eventId: string,
    invoice: { id: string; amount: number; fee: number },
    at: number,
  ) => {
    const event = creditEvent(eventId, invoice)
    const decision = decideBankEvent(event, 'issued')
    const transfer =
      decision.kind === 'credit'
        ? planTransfer(decision.invoiceId, decision.credited, DESTINATION)
        : undefined
    await store.recordBankEvent(
      { event, payload: JSON.stringify({ event }), decision, ...(transfer ? { transfer } : {}) },
      at,
    )
  }
  const confirm = async (
    eventId: string,
    transfer: { id: string; amount: number; status: string },
    at: number,
  ) => {
    const event = transferEvent(eventId, transfer)
    await store.recordBankEvent(
      { event, payload: JSON.stringify({ event }), decision: decideBankEvent(event, 'issued') },
      at,
    )
  }
  const planned = (id: string, amount: number) => ({
    id,
    runId: '',
    name: `Payer ${id}`,
    taxId: '012.345.678-90',
    amount,
    tags: [],
  })

  // The clean day before.
  await store.planRun(
    { id: 'run-0', slot: 'sched:2026-02-28T09:00:00.000Z', invoices: [planned('inv-z', 3000)] },
    T0,
  )
  await store.markRunIssued('run-0', [{ invoiceId: 'inv-z', bankId: 'sz' }], T0)
  await credit('evt-z', { id: 'sz', amount: 3000, fee: 30 }, T0 + 1000)
  const early = await store.claimTransfers(100, T0 + 2000, 60_000)
  const claimOf = (claims: typeof early, invoice: string) => {
    const claim = claims.claimed.find((c) => c.transferId === transferIdFor(invoice))
    if (!claim) throw new Error(`fixture: no claim on the transfer for ${invoice}`)
    return claim
  }
  await store.transferCreated(claimOf(early, 'sz'), { id: 'bank-tz', status: 'created' }, T0 + 3000)
  await confirm('evt-tz', { id: 'bank-tz', amount: 2970, status: 'success' }, T0 + 4000)

  const amounts = { a: 10000, b: 20000, c: 5000, d: 7000, e: 6000, f: 4000 }
  const letters = Object.keys(amounts) as (keyof typeof amounts)[]
  await store.planRun(
    {
      id: 'run-1',
      slot: 'sched:2026-03-01T09:00:00.000Z',
      invoices: letters.map((l) => planned(`inv-${l}`, amounts[l])),
    },
    T,
  )
  await store.markRunIssued(
    'run-1',
    letters.map((l) => ({ invoiceId: `inv-${l}`, bankId: `s${l}` })),
    T + 1000,
  )
  await credit('evt-a', { id: 'sa', amount: 10000, fee: 50 }, T + 60_000)
  await credit('evt-b', { id: 'sb', amount: 20000, fee: 100 }, T + 61_000)
  await credit('evt-c', { id: 'sc', amount: 5000, fee: 0 }, T + 62_000)
  await credit('evt-d', { id: 'sd', amount: 7000, fee: 70 }, T + 63_000)
  await credit('evt-f', { id: 'sf', amount: 4000, fee: 40 }, T + 64_000)
  const claims = await store.claimTransfers(100, T + 70_000, 60_000)
  await store.transferCreated(claimOf(claims, 'sa'), { id: 'bank-ta', status: 'created' }, T + 71_000)
  await store.transferCreated(claimOf(claims, 'sb'), { id: 'bank-tb', status: 'processing' }, T + 71_000)
  await store.transferCreated(claimOf(claims, 'sc'), { id: 'bank-tc', status: 'created' }, T + 71_000)
  await store.transferDead(
    claimOf(claims, 'sf'),
    'invalidAccountNumber: the account does not exist',
    T + 71_000,
  )
  // sd's transfer stays claimed until the planted deletion below.
  await confirm('evt-ta', { id: 'bank-ta', amount: 9950, status: 'success' }, T + 120_000)
  await confirm('evt-tc', { id: 'bank-tc', amount: 5000, status: 'failed' }, T + 121_000)

  // The planted mismatches: a rewritten amount, and a credited invoice whose transfer vanished.
  await exec(`UPDATE transfers SET amount = 19000 WHERE id = '${transferIdFor('sb')}'`)
  await exec(`DELETE FROM outbox WHERE ref_id = '${transferIdFor('sd')}'`)
  await exec(`DELETE FROM transfers WHERE id = '${transferIdFor('sd')}'`)

  await store.deadLetter(
    {
      queue: 'stark-events',
      messageId: 'msg-poison',
      body: '{"event": oops',
      reason: 'body is not JSON',
      receiveCount: 1,
    },
    T + 5000,
  )

  const { forwards } = stores
  for (const id of ['evt_ok', 'evt_bad']) {
    const body = JSON.stringify({ id, type: 'charge.succeeded' })
    await forwards.recordStripeEvent({ id, type: 'charge.succeeded', shape: 'raw', body }, body, T + 200_000)
  }
  await forwards.claimForwards(10, T + 201_000, 60_000)
  await forwards.forwardsDelivered([{ id: 'evt_ok', statusCode: 200, latencyMs: 12 }], T + 202_000)
  await forwards.forwardDead('evt_bad', 1, { statusCode: 400, error: 'HTTP 400: bad payload' }, T + 202_000)
}

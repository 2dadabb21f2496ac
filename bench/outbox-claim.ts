/**
 * The cost of one outbox claim query as the ledger ages: N finished rows and 10 due ones, the
 * split query paybridge uses (src/adapters/ledger/sqlite/outbox-due.ts) beside the single `OR` it replaced.
 *
 *   npx bun run bench/outbox-claim.ts [finished rows=50000] [claims=200]
 */
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { dueOutbox } from '../src/adapters/ledger/sqlite/outbox-due.ts'

const finished = Number(process.argv[2] ?? 50_000)
const claims = Number(process.argv[3] ?? 200)

const ledger = openLedger(':memory:')
const insert = ledger.sqlite.prepare(
  "insert into outbox (id, kind, ref_id, status, attempts, next_attempt_at, created_at, updated_at) values (?, 'transfer', ?, ?, 1, ?, 0, 0)",
)
ledger.sqlite.transaction(() => {
  for (let i = 0; i < finished + 10; i++) insert.run(`o${i}`, `r${i}`, i < finished ? 'done' : 'pending', i)
})()
const orQuery = ledger.sqlite.prepare(
  "select id from outbox where kind = 'transfer' and ((status = 'pending' and next_attempt_at <= ?) or (status = 'in_flight' and lease_until <= ?)) order by next_attempt_at limit 100",
)

function time(run: () => unknown): string {
  const started = performance.now()
  for (let i = 0; i < claims; i++) run()
  return ((performance.now() - started) / claims).toFixed(3)
}

const dueOutboxRows = dueOutbox(ledger.db)
const split = time(() => dueOutboxRows('transfer', 1e12, 100))
const single = time(() => orQuery.all(1e12, 1e12))
console.log(`\noutbox claim, ${finished} finished rows + 10 due, ${claims} claims each (bun ${Bun.version})`)
console.table([
  { query: 'two index searches (paybridge, prepared via drizzle)', 'ms per claim': split },
  { query: 'one OR (before, raw prepared statement)', 'ms per claim': single },
])
ledger.close()

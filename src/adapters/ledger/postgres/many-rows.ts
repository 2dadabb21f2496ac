import { type AnyColumn, getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import type { PgTx } from './database.ts'

// Statements over a whole batch of rows, so a step is one round trip per table rather than one per
// row. Values travel as one array parameter per column (`unnest($1::text[], ...)`): the statement's
// text is the same whatever the batch size, so Bun's SQL client prepares it once per connection.

/** `column = any($1)`: one parameter for the whole list, whatever its length. */
export const anyOf = (column: AnyColumn, values: readonly unknown[]): SQL =>
  sql`${column} = any(${sql.param(values)}::${sql.raw(column.getSQLType())}[])`

/**
 * One INSERT of `rows` (which share their keys, named as the table's drizzle columns; a key missing
 * from them takes the column's default), skipping any row a unique key already holds (unless
 * `conflicts` is `fail`: then such a row fails the statement). Returns the
 * `id`s of the rows it inserted. Built from one array per column, not one parameter per value: the
 * statement is the same text for any number of rows, and building it costs the same.
 */
export async function insertEach<T extends PgTable>(
  t: PgTx,
  table: T,
  rows: Record<string, unknown>[],
  options: { conflicts: 'skip' | 'fail' } = { conflicts: 'skip' },
): Promise<Set<string>> {
  const first = rows[0]
  if (!first) return new Set()
  const column = columnOf(table)
  const names = Object.keys(first)
  const onConflict = options.conflicts === 'skip' ? sql`on conflict do nothing` : sql``
  const inserted = await t.execute<{ id: string }>(
    sql`insert into ${table} (${sql.join(
      names.map((n) => sql.identifier(column(n).name)),
      sql`, `,
    )}) select * from unnest(${columnArrays(column, names, rows)})
        ${onConflict} returning ${sql.identifier('id')}`,
  )
  return new Set(inserted.map((r) => r.id))
}

/** The table's drizzle column named `name`, or a clear error. */
function columnOf(table: PgTable) {
  const columns = getTableColumns(table) as Record<string, AnyColumn>
  return (name: string) => {
    const c = columns[name]
    if (!c) throw new Error(`${getTableName(table)} has no column ${name}`)
    return c
  }
}

/** One typed array parameter per column, in `names` order. */
const columnArrays = (
  column: (name: string) => AnyColumn,
  names: string[],
  rows: Record<string, unknown>[],
) =>
  sql.join(
    names.map((n) => sql`${sql.param(rows.map((r) => r[n] ?? null))}::${sql.raw(column(n).getSQLType())}[]`),
    sql`, `,
  )

/**
 * One UPDATE writing each row's own values onto the row whose `key` column matches (`rows` share
 * their keys, named as the table's drizzle columns), where `guard` (over the table) holds too. Returns
 * the keys of the rows it changed.
 */
export async function updateEach<T extends PgTable>(
  t: PgTx,
  table: T,
  key: keyof T['_']['columns'] & string,
  rows: Record<string, unknown>[],
  guard?: SQL,
): Promise<Set<string>> {
  const first = rows[0]
  if (!first) return new Set()
  const column = columnOf(table)
  const names = Object.keys(first)
  if (!names.includes(key))
    throw new Error(`updateEach on ${getTableName(table)}: rows lack their key ${key}`)
  const v = (name: string) => sql`v.${sql.identifier(column(name).name)}`
  const arrays = columnArrays(column, names, rows)
  const aliases = sql.join(
    names.map((n) => sql.identifier(column(n).name)),
    sql`, `,
  )
  const sets = sql.join(
    names.filter((n) => n !== key).map((n) => sql`${sql.identifier(column(n).name)} = ${v(n)}`),
    sql`, `,
  )
  const keyColumn = column(key)
  const changed = await t.execute<{ key: string }>(
    sql`update ${table} set ${sets} from unnest(${arrays}) as v(${aliases})
        where ${keyColumn} = ${v(key)}${guard ? sql` and ${guard}` : sql``}
        returning ${keyColumn} as key`,
  )
  return new Set(changed.map((r) => r.key))
}

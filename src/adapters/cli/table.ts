import { brlOrBlank } from '../../domain/money.ts'
import type { Trace } from '../../ports/ledger-views.ts'

// What the CLI prints for people: aligned text. Rows arrive in their machine form (what `--json`
// prints): a `…_cents` column is shown as money (`R$ 2,319.33`) under its name without the suffix.

type Cell = string | number | null | undefined

const CENTS = /_cents$/

/** A column's name as people read it. */
const shownName = (column: string) => column.replace(CENTS, '')

/** A cell as people read it: money in `brl`, nothing for a missing value. */
const shownCell = (column: string, v: Cell) =>
  CENTS.test(column) ? brlOrBlank(v) : v === null || v === undefined ? '' : String(v)

/** Renders rows as an aligned text table; long cells are cut so a row stays on one line. */
export function renderTable(rows: Record<string, Cell>[], maxCell = 48): string {
  const first = rows[0]
  if (!first) return '(no rows)\n'
  const columns = Object.keys(first)
  const cell = (c: string, v: Cell) => {
    const s = shownCell(c, v)
    return s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s
  }
  const names = columns.map(shownName)
  const widths = columns.map((c, i) =>
    Math.max((names[i] ?? '').length, ...rows.map((r) => cell(c, r[c]).length)),
  )
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return `${[line(names), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(c, r[c]))))].join('\n')}\n`
}

/** A trace as aligned text, one step a line. */
export function renderTrace(trace: Trace): string {
  if (!trace.found) return `nothing in the ledger mentions "${trace.query}"\n`
  const lines = trace.steps.map((s) => [
    s.step,
    s.id,
    s.status,
    s.at ?? '',
    Object.entries(s.detail)
      .map(([k, v]) => [shownName(k), shownCell(k, v)])
      .map(([k, v]) => `${k}=${v && /\s/.test(v) ? JSON.stringify(v) : v}`)
      .join(' '),
  ])
  const widths = [0, 1, 2, 3].map((c) => Math.max(...lines.map((l) => (l[c] ?? '').length)))
  const body = lines.map((l) =>
    l
      .map((cell, c) => (c < 4 ? cell.padEnd(widths[c] ?? 0) : cell))
      .join('  ')
      .trimEnd(),
  )
  return `trace of ${trace.query} (${trace.found})\n${body.join('\n')}\n`
}

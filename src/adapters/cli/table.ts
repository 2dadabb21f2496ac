import { shownTime } from '../../domain/ledger-time.ts'
import type { Trace } from '../../ports/ledger-views.ts'

// What the CLI prints for people: aligned text.

/** Renders rows as an aligned text table; long cells are cut so a row stays on one line. */
export function renderTable(rows: Record<string, string | number>[], maxCell = 48): string {
  const first = rows[0]
  if (!first) return '(no rows)\n'
  const columns = Object.keys(first)
  const cell = (v: string | number | undefined) => {
    const s = String(v ?? '')
    return s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s
  }
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return `${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n')}\n`
}

/** A trace as aligned text, one step a line. */
export function renderTrace(trace: Trace): string {
  if (!trace.found) return `nothing in the ledger mentions "${trace.query}"\n`
  const lines = trace.steps.map((s) => [
    s.step,
    s.id,
    s.status,
    shownTime(s.at),
    Object.entries(s.detail)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : v}`)
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

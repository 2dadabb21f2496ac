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

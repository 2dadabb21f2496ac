// Money is integer cents everywhere inside paybridge (and in every JSON output, under a `…_cents` or
// `…Cents` name); `brl` is the one form people read it in: tables, the admin page, log and outcome texts.

/**
 * Cents as people read them: `R$` with thousands separated by `,` and two decimals, the minus sign
 * before `R$` (`231933` → `R$ 2,319.33`, `-150` → `-R$ 1.50`). Exact: digits, never floating point.
 */
export function brl(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`not a whole number of cents: ${cents}`)
  const digits = String(Math.abs(cents)).padStart(3, '0')
  const units = digits.slice(0, -2).replace(/\B(?=(\d{3})+$)/g, ',')
  return `${cents < 0 ? '-' : ''}R$ ${units}.${digits.slice(-2)}`
}

/** `brl` for a value read from the ledger, where a missing amount is shown as nothing. */
export const brlOrBlank = (cents: unknown): string => (typeof cents === 'number' ? brl(cents) : '')

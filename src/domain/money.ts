// Money is integer cents everywhere inside paybridge; these are the forms it is shown in.

/** Cents as reais with two decimals (`231933` → `2319.33`; negative amounts keep their sign). */
export function reais(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`not a whole number of cents: ${cents}`)
  const sign = cents < 0 ? '-' : ''
  const abs = Math.abs(cents)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

/** `reais` for a value read from the ledger, where a missing amount is shown as nothing. */
export const reaisOrBlank = (cents: unknown): string => (typeof cents === 'number' ? reais(cents) : '')

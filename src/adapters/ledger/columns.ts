// Both engines' drizzle tables have the same column names: a selection written once over either.

/** The named columns of `table` (either engine's), as a drizzle selection keeping their types. */
export const columnsOf = <T, K extends keyof T>(table: T, ...names: K[]): Pick<T, K> =>
  Object.fromEntries(names.map((n) => [n, table[n]])) as Pick<T, K>

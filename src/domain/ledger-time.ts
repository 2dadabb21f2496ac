// Times as operators read and write them: the ledger keeps ms since the epoch.

/**
 * A ledger time in its one shown form, for people and machines alike (tables, JSON, the admin page):
 * ISO 8601 in UTC with its `Z`, to the millisecond (`2026-03-01T10:01:11.500Z`), as log lines carry
 * their `time`. Nothing for a missing or zero time.
 */
export const shownTime = (ms: unknown): string =>
  typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : ''

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/**
 * A "since" given by an operator (`--since`, `?since=`): an ISO time (`2026-03-01` is midnight UTC,
 * `2026-03-01T12:00Z`) or an age before `now` (`45s`, `30m`, `6h`, `2d`). Undefined when absent or
 * unreadable; callers refuse an unreadable one with their own message.
 */
export function parseSince(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined
  const age = /^(\d+)([smhd])$/.exec(value)
  if (age) return now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS]
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined
  const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value)
  return Number.isNaN(at) ? undefined : at
}

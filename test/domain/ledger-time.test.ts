import { describe, expect, it } from 'bun:test'
import { parseSince, shownTime } from '../../src/domain/ledger-time.ts'

const NOW = Date.UTC(2026, 2, 2, 12, 0, 0)

describe('operator times', () => {
  it('reads an age in seconds, minutes, hours or days before now', () => {
    expect(parseSince('45s', NOW)).toBe(NOW - 45_000)
    expect(parseSince('30m', NOW)).toBe(NOW - 30 * 60_000)
    expect(parseSince('6h', NOW)).toBe(NOW - 6 * 3_600_000)
    expect(parseSince('2d', NOW)).toBe(NOW - 2 * 86_400_000)
  })

  it('reads an ISO day as midnight UTC and an ISO time as written', () => {
    expect(parseSince('2026-03-01', NOW)).toBe(Date.UTC(2026, 2, 1))
    expect(parseSince('2026-03-01T12:00Z', NOW)).toBe(Date.UTC(2026, 2, 1, 12))
    expect(parseSince('2026-03-01T12:00:00.000-03:00', NOW)).toBe(Date.UTC(2026, 2, 1, 15))
  })

  it('reads nothing from words, bare numbers, unknown units or impossible dates', () => {
    for (const text of ['yesterday', '45', '3w', '-2d', '2026-13-45', '', undefined])
      expect({ text, at: parseSince(text, NOW) }).toEqual({ text, at: undefined })
  })

  it('shows a ledger time as ISO 8601 UTC with its Z, to the millisecond, and nothing for a missing one', () => {
    expect(shownTime(Date.UTC(2026, 2, 1, 10, 1, 11, 500))).toBe('2026-03-01T10:01:11.500Z')
    expect(shownTime(Date.UTC(2026, 11, 1, 10))).toBe('2026-12-01T10:00:00.000Z')
    expect([shownTime(null), shownTime(0), shownTime('x')]).toEqual(['', '', ''])
  })
})

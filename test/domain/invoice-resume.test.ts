import { describe, expect, it } from 'bun:test'
import { createDecision } from '../../src/domain/invoice-resume.ts'

describe('createDecision: may a resume create the invoices its lookup did not find', () => {
  const at = Date.UTC(2026, 5, 1, 12)
  const wait = 5 * 60_000

  it('creates when no create was attempted yet', () => {
    expect(createDecision(null, at, wait)).toEqual({ kind: 'create' })
  })

  it('only looks up until the wait after an unknown outcome is over, then creates', () => {
    const last = { outcome: 'unknown' as const, at }
    expect(createDecision(last, at + 1, wait)).toEqual({ kind: 'lookOnly', until: at + wait })
    expect(createDecision(last, at + wait - 1, wait)).toEqual({ kind: 'lookOnly', until: at + wait })
    expect(createDecision(last, at + wait, wait)).toEqual({ kind: 'create' })
  })

  it('creates at once after a definitive refusal', () => {
    expect(createDecision({ outcome: 'refused', at }, at + 1, wait)).toEqual({ kind: 'create' })
  })
})

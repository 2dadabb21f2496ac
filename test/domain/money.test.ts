import { describe, expect, it } from 'bun:test'
import { brl, brlOrBlank } from '../../src/domain/money.ts'

describe('money as people read it', () => {
  it('shows cents as R$ with two decimals and thousands separated by commas', () => {
    expect(brl(231_933)).toBe('R$ 2,319.33')
    expect(brl(5)).toBe('R$ 0.05')
    expect(brl(70)).toBe('R$ 0.70')
    expect(brl(0)).toBe('R$ 0.00')
    expect(brl(99_999)).toBe('R$ 999.99')
    expect(brl(100_000)).toBe('R$ 1,000.00')
    expect(brl(123_456_789)).toBe('R$ 1,234,567.89')
  })

  it('puts the minus sign before R$ for a negative amount', () => {
    expect(brl(-150)).toBe('-R$ 1.50')
    expect(brl(-1)).toBe('-R$ 0.01')
    expect(brl(-123_456_789)).toBe('-R$ 1,234,567.89')
  })

  it('is exact up to the largest safe number of cents (no floating-point rounding)', () => {
    // 0.29 * 100 is 28.999999999999996 in floating point; digits are never divided here.
    expect(brl(29)).toBe('R$ 0.29')
    expect(brl(1_000_000_000_000_001)).toBe('R$ 10,000,000,000,000.01')
    expect(brl(Number.MAX_SAFE_INTEGER)).toBe('R$ 90,071,992,547,409.91')
    expect(brl(Number.MIN_SAFE_INTEGER)).toBe('-R$ 90,071,992,547,409.91')
  })

  it('refuses what is not a whole number of cents', () => {
    expect(() => brl(1.5)).toThrow('not a whole number of cents: 1.5')
    expect(() => brl(Number.MAX_SAFE_INTEGER + 1)).toThrow('not a whole number of cents')
    expect(() => brl(Number.NaN)).toThrow('not a whole number of cents: NaN')
  })

  it('shows a missing amount as nothing', () => {
    expect(brlOrBlank(null)).toBe('')
    expect(brlOrBlank(undefined)).toBe('')
    expect(brlOrBlank(1234)).toBe('R$ 12.34')
  })
})

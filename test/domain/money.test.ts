import { describe, expect, it } from 'bun:test'
import { reais, reaisOrBlank } from '../../src/domain/money.ts'

describe('money', () => {
  it('shows cents as reais with two decimals, exactly (no floating-point rounding)', () => {
    expect(reais(231_933)).toBe('2319.33')
    expect(reais(5)).toBe('0.05')
    expect(reais(0)).toBe('0.00')
    expect(reais(-150)).toBe('-1.50')
    expect(reais(900_719_925_474_099)).toBe('9007199254740.99')
  })

  it('refuses what is not a whole number of cents', () => {
    expect(() => reais(1.5)).toThrow('not a whole number of cents: 1.5')
  })

  it('shows a missing amount as nothing', () => {
    expect(reaisOrBlank(null)).toBe('')
    expect(reaisOrBlank(1234)).toBe('12.34')
  })
})

import { describe, expect, it } from 'bun:test'
import { seededRandom } from '../../src/domain/random.ts'
import { isValidCnpj, isValidCpf, randomCnpj, randomCpf } from '../../src/domain/tax-id.ts'

describe('CPF', () => {
  it('accepts known valid CPFs, formatted or bare', () => {
    expect(isValidCpf('529.982.247-25')).toBe(true)
    expect(isValidCpf('52998224725')).toBe(true)
    expect(isValidCpf('012.345.678-90')).toBe(true)
  })

  it('refuses wrong check digits, repeated digits and wrong lengths', () => {
    expect(isValidCpf('529.982.247-24')).toBe(false)
    expect(isValidCpf('111.111.111-11')).toBe(false)
    expect(isValidCpf('5299822472')).toBe(false)
    expect(isValidCpf('abc.def.ghi-jk')).toBe(false)
  })

  it('generates only valid, formatted CPFs', () => {
    const random = seededRandom(42)
    for (let i = 0; i < 2_000; i++) {
      const cpf = randomCpf(random)
      expect(cpf).toMatch(/^\d{3}\.\d{3}\.\d{3}-\d{2}$/)
      expect(isValidCpf(cpf)).toBe(true)
    }
  })
})

describe('CNPJ', () => {
  it('accepts Stark Bank S.A.’s CNPJ and refuses a changed digit', () => {
    expect(isValidCnpj('20.018.183/0001-80')).toBe(true)
    expect(isValidCnpj('20.018.183/0001-81')).toBe(false)
    expect(isValidCnpj('00.000.000/0000-00')).toBe(false)
  })

  it('generates only valid, formatted CNPJs', () => {
    const random = seededRandom(7)
    for (let i = 0; i < 2_000; i++) {
      const cnpj = randomCnpj(random)
      expect(cnpj).toMatch(/^\d{2}\.\d{3}\.\d{3}\/0001-\d{2}$/)
      expect(isValidCnpj(cnpj)).toBe(true)
    }
  })
})

import { intBetween, type Random } from './random.ts'

// Brazilian tax ids. CPF: 9 digits + 2 check digits (weights 10..2, then 11..2).
// CNPJ: 12 digits + 2 check digits (weights 5..2,9..2, then 6..2,9..2). Check digit = 11 - sum % 11,
// or 0 when that is 10 or 11.

function checkDigit(digits: number[], weights: number[]): number {
  const sum = digits.reduce((acc, d, i) => acc + d * (weights[i] ?? 0), 0)
  const rest = 11 - (sum % 11)
  return rest >= 10 ? 0 : rest
}

const CPF_W1 = [10, 9, 8, 7, 6, 5, 4, 3, 2]
const CPF_W2 = [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]
const CNPJ_W1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
const CNPJ_W2 = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]

function digitsOf(value: string): number[] {
  return value
    .replace(/[.\-/\s]/g, '')
    .split('')
    .map(Number)
}

function allSame(digits: number[]): boolean {
  return digits.every((d) => d === digits[0])
}

export function isValidCpf(value: string): boolean {
  if (!/^(\d{3}\.?\d{3}\.?\d{3}-?\d{2})$/.test(value.trim())) return false
  const d = digitsOf(value.trim())
  if (d.length !== 11 || allSame(d)) return false
  const base = d.slice(0, 9)
  const first = checkDigit(base, CPF_W1)
  const second = checkDigit([...base, first], CPF_W2)
  return d[9] === first && d[10] === second
}

export function isValidCnpj(value: string): boolean {
  if (!/^(\d{2}\.?\d{3}\.?\d{3}\/?\d{4}-?\d{2})$/.test(value.trim())) return false
  const d = digitsOf(value.trim())
  if (d.length !== 14 || allSame(d)) return false
  const base = d.slice(0, 12)
  const first = checkDigit(base, CNPJ_W1)
  const second = checkDigit([...base, first], CNPJ_W2)
  return d[12] === first && d[13] === second
}

export function isValidTaxId(value: string): boolean {
  return isValidCpf(value) || isValidCnpj(value)
}

/** A random valid CPF, formatted `000.000.000-00`. */
export function randomCpf(random: Random): string {
  let base: number[]
  do base = Array.from({ length: 9 }, () => intBetween(random, 0, 9))
  while (allSame(base))
  const first = checkDigit(base, CPF_W1)
  const d = [...base, first, checkDigit([...base, first], CPF_W2)].join('')
  return `${d.slice(0, 3)}.${d.slice(3, 6)}.${d.slice(6, 9)}-${d.slice(9)}`
}

/** A random valid CNPJ of a head office (branch 0001), formatted `00.000.000/0001-00`. */
export function randomCnpj(random: Random): string {
  let root: number[]
  do root = Array.from({ length: 8 }, () => intBetween(random, 0, 9))
  while (allSame(root))
  const base = [...root, 0, 0, 0, 1]
  const first = checkDigit(base, CNPJ_W1)
  const d = [...base, first, checkDigit([...base, first], CNPJ_W2)].join('')
  return `${d.slice(0, 2)}.${d.slice(2, 5)}.${d.slice(5, 8)}/${d.slice(8, 12)}-${d.slice(12)}`
}

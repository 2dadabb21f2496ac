import type { TransferInput, WireError } from './wire.ts'

export type { TransferInput }

// Stark Bank validates a whole batch before creating anything: one bad element fails the request
// with one error per problem, each message prefixed with the element's index.

export const MAX_BATCH = 100

export interface InvoiceInput {
  amount: number
  name: string
  taxId: string
  tags: string[]
  due?: string
}

export type Validated<T> = { ok: true; items: T[] } | { ok: false; errors: WireError[] }

type Fields = Record<string, unknown>

function checkDigit(digits: number[], weights: number[]): number {
  const rest = 11 - (digits.reduce((acc, d, i) => acc + d * (weights[i] ?? 0), 0) % 11)
  return rest >= 10 ? 0 : rest
}

function descending(from: number, length: number): number[] {
  return Array.from({ length }, (_, i) => from - i)
}

const CNPJ_W1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
const CNPJ_W2 = [6, ...CNPJ_W1]

/** CPF or CNPJ, formatted or not, with valid check digits. */
export function isTaxId(value: string): boolean {
  if (!/^(\d{3}\.?\d{3}\.?\d{3}-?\d{2}|\d{2}\.?\d{3}\.?\d{3}\/?\d{4}-?\d{2})$/.test(value)) return false
  const d = value.replace(/\D/g, '').split('').map(Number)
  if (d.every((x) => x === d[0])) return false
  const [w1, w2] = d.length === 11 ? [descending(10, 9), descending(11, 10)] : [CNPJ_W1, CNPJ_W2]
  const n = d.length - 2
  const first = checkDigit(d.slice(0, n), w1)
  return d[n] === first && d[n + 1] === checkDigit([...d.slice(0, n), first], w2)
}

function batch(body: unknown, key: 'invoices' | 'transfers'): { items: Fields[] } | { error: WireError } {
  const list = (body as Fields | null)?.[key]
  if (!Array.isArray(list) || list.length === 0) {
    return { error: { code: 'invalidJson', message: `Expected a non-empty list in "${key}"` } }
  }
  if (list.length > MAX_BATCH) {
    const code = key === 'invoices' ? 'tooManyInvoices' : 'tooManyTransfers'
    return { error: { code, message: `At most ${MAX_BATCH} ${key} per request, got ${list.length}` } }
  }
  return { items: list.map((item) => (item && typeof item === 'object' ? (item as Fields) : {})) }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined
}

function tagsOf(value: unknown, at: string, errors: WireError[]): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
    errors.push({ code: 'invalidTags', message: `${at}: tags must be a list of strings` })
    return []
  }
  // The server lower-cases tags on the way in.
  return value.map((t: string) => t.toLowerCase())
}

function common(item: Fields, at: string, errors: WireError[], minAmount: number) {
  const amount = item.amount
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < minAmount) {
    errors.push({
      code: 'invalidAmount',
      message: `${at}: amount must be an integer number of cents >= ${minAmount}, got ${JSON.stringify(amount)}`,
    })
  }
  const name = text(item.name)
  if (!name) errors.push({ code: 'invalidName', message: `${at}: name is required` })
  const taxId = text(item.taxId)
  if (!taxId || !isTaxId(taxId.trim())) {
    errors.push({ code: 'invalidTaxId', message: `${at}: invalid taxId ${JSON.stringify(item.taxId)}` })
  }
  return {
    amount: amount as number,
    name: name ?? '',
    taxId: taxId ?? '',
    tags: tagsOf(item.tags, at, errors),
  }
}

export function validateInvoices(body: unknown): Validated<InvoiceInput> {
  const parsed = batch(body, 'invoices')
  if ('error' in parsed) return { ok: false, errors: [parsed.error] }
  const errors: WireError[] = []
  const invoices = parsed.items.map((item, i) => {
    const at = `Element ${i}`
    // Stark Bank accepts amount 0 (the payer chooses); negative or fractional cents are refused.
    const fields = common(item, at, errors, 0)
    if (item.due !== undefined && (typeof item.due !== 'string' || Number.isNaN(Date.parse(item.due)))) {
      errors.push({ code: 'invalidDue', message: `${at}: due must be an ISO 8601 date string` })
    }
    return { ...fields, ...(typeof item.due === 'string' ? { due: item.due } : {}) }
  })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, items: invoices }
}

const ACCOUNT_TYPES = new Set(['checking', 'savings', 'salary', 'payment'])

/** `taken(externalId)` says whether an earlier transfer already used it. */
export function validateTransfers(
  body: unknown,
  taken: (externalId: string) => boolean,
): Validated<TransferInput> {
  const parsed = batch(body, 'transfers')
  if ('error' in parsed) return { ok: false, errors: [parsed.error] }
  const errors: WireError[] = []
  const seen = new Set<string>()
  const transfers = parsed.items.map((item, i) => {
    const at = `Element ${i}`
    const fields = common(item, at, errors, 1)
    const bankCode = text(item.bankCode) ?? ''
    if (!/^(\d{3}|\d{8})$/.test(bankCode)) {
      errors.push({
        code: 'invalidBankCode',
        message: `${at}: bankCode must be 3 digits (TED) or an 8-digit ISPB (Pix)`,
      })
    }
    const branchCode = text(item.branchCode) ?? ''
    if (!/^\d{1,4}(-\d)?$/.test(branchCode)) {
      errors.push({
        code: 'invalidBranchCode',
        message: `${at}: invalid branchCode ${JSON.stringify(item.branchCode)}`,
      })
    }
    const accountNumber = text(item.accountNumber) ?? ''
    if (!/^\d{1,20}(-[\dxX])?$/.test(accountNumber)) {
      errors.push({
        code: 'invalidAccountNumber',
        message: `${at}: invalid accountNumber ${JSON.stringify(item.accountNumber)}`,
      })
    }
    const accountType = item.accountType === undefined ? 'checking' : String(item.accountType)
    if (!ACCOUNT_TYPES.has(accountType)) {
      errors.push({
        code: 'invalidAccountType',
        message: `${at}: invalid accountType ${JSON.stringify(accountType)}`,
      })
    }
    const externalId = item.externalId === undefined ? '' : String(item.externalId)
    if (externalId !== '') {
      if (!/^[\w\-.~:]{1,255}$/.test(externalId)) {
        errors.push({ code: 'invalidExternalId', message: `${at}: externalId must be a url-safe string` })
      } else if (taken(externalId) || seen.has(externalId)) {
        errors.push({
          code: 'invalidExternalId',
          message: `${at}: externalId ${externalId} already exists: it must be unique among all your transfers`,
        })
      }
      seen.add(externalId)
    }
    const description = typeof item.description === 'string' ? item.description : ''
    return { ...fields, bankCode, branchCode, accountNumber, accountType, externalId, description }
  })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, items: transfers }
}

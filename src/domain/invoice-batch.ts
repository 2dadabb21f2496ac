import { intBetween, pick, type Random } from './random.ts'
import { randomCnpj, randomCpf } from './tax-id.ts'

export interface PlannedInvoice {
  /** Our id for the invoice, stable across retries of the run. */
  id: string
  runId: string
  name: string
  taxId: string
  /** Cents. */
  amount: number
  tags: string[]
}

export interface BatchLimits {
  minCount: number
  maxCount: number
  /** Cents. */
  minAmount: number
  maxAmount: number
}

export const DEFAULT_BATCH: BatchLimits = { minCount: 8, maxCount: 12, minAmount: 1_000, maxAmount: 500_000 }

const FIRST = ['Ana', 'Bruno', 'Carla', 'Diego', 'Elisa', 'Felipe', 'Gabriela', 'Heitor', 'Isabela', 'João']
const MORE = [
  'Karina',
  'Lucas',
  'Mariana',
  'Nicolas',
  'Otávio',
  'Paula',
  'Rafael',
  'Sofia',
  'Tiago',
  'Vitória',
]
const LAST = [
  'Silva',
  'Santos',
  'Oliveira',
  'Souza',
  'Lima',
  'Pereira',
  'Ferreira',
  'Costa',
  'Rodrigues',
  'Almeida',
]
const COMPANY = ['Comércio', 'Serviços', 'Tecnologia', 'Alimentos', 'Logística', 'Engenharia', 'Consultoria']
const SUFFIX = ['Ltda', 'S.A.', 'ME', 'EIRELI']

/** Tags let a retry of a run find the invoices Stark Bank already created (tags are lower-cased there). */
export function runTag(runId: string): string {
  return `paybridge-run-${runId}`.toLowerCase()
}

const INVOICE_TAG_PREFIX = 'paybridge-invoice-'

export function invoiceTag(invoiceId: string): string {
  return `${INVOICE_TAG_PREFIX}${invoiceId}`.toLowerCase()
}

/**
 * The planned invoice id an invoice's tags name, if paybridge issued it (its invoice tag); null for
 * invoices of other systems in the same Stark Bank workspace. Our ids are lower case, as tags are.
 */
export function plannedInvoiceIdIn(tags: readonly string[]): string | null {
  for (const tag of tags) {
    const lower = tag.toLowerCase()
    if (lower.startsWith(INVOICE_TAG_PREFIX) && lower.length > INVOICE_TAG_PREFIX.length)
      return lower.slice(INVOICE_TAG_PREFIX.length)
  }
  return null
}

/** A run id that is also a valid lower-case tag, derived from the schedule slot it serves. */
export function runIdForSlot(slot: Date, prefix: 'sched' | 'manual' = 'sched'): string {
  const iso = slot.toISOString() // 2026-11-25T12:00:00.000Z
  // Schedule slots fall on whole minutes; manual runs keep milliseconds so two never share an id.
  const compact = iso
    .slice(0, prefix === 'manual' ? 23 : 19)
    .replace(/[-:.]/g, '')
    .toLowerCase()
  return `${prefix}-${compact}`
}

/** Plans one run: 8–12 invoices to random payers (valid CPF, sometimes a company with a valid CNPJ). */
export function planBatch(
  runId: string,
  random: Random,
  limits: BatchLimits = DEFAULT_BATCH,
): PlannedInvoice[] {
  const count = intBetween(random, limits.minCount, limits.maxCount)
  return Array.from({ length: count }, (_, i) => {
    const id = `${runId}-${String(i + 1).padStart(2, '0')}`
    const company = random() < 0.2
    const name = company
      ? `${pick(random, LAST)} ${pick(random, COMPANY)} ${pick(random, SUFFIX)}`
      : `${pick(random, random() < 0.5 ? FIRST : MORE)} ${pick(random, LAST)} ${pick(random, LAST)}`
    return {
      id,
      runId,
      name,
      taxId: company ? randomCnpj(random) : randomCpf(random),
      amount: intBetween(random, limits.minAmount, limits.maxAmount),
      tags: [runTag(runId), invoiceTag(id)],
    }
  })
}

/**
 * Which planned invoices still need creating, given what the bank already holds for the run (found by
 * the run tag). Matching is by our per-invoice tag, so a retry after a crash creates only the rest.
 */
export function missingInvoices(
  planned: readonly PlannedInvoice[],
  existing: readonly { id: string; tags: string[] }[],
): { missing: PlannedInvoice[]; found: { invoiceId: string; bankId: string }[] } {
  const byTag = new Map<string, string>()
  for (const inv of existing) for (const tag of inv.tags) byTag.set(tag.toLowerCase(), inv.id)
  const missing: PlannedInvoice[] = []
  const found: { invoiceId: string; bankId: string }[] = []
  for (const p of planned) {
    const bankId = byTag.get(invoiceTag(p.id))
    if (bankId) found.push({ invoiceId: p.id, bankId })
    else missing.push(p)
  }
  return { missing, found }
}

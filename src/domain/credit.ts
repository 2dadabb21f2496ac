import type { CreditDecision } from './bank-event.ts'
import { brl } from './money.ts'

/** The skip reason of a credited invoice paybridge did not issue, under the default payout scope. */
export const NOT_ISSUED_REASON = 'not issued by paybridge (PAYOUT_SCOPE=issued)'

/** An invoice row as the ledger holds it, found for a credited log. */
export interface LedgerInvoice {
  id: string
  status: 'planned' | 'issued' | 'credited'
  /** The run that planned it; null for an invoice paybridge only saw credited. */
  runId: string | null
  /** What the first credit paid, and its fee; null before any credit. */
  creditedAmount: number | null
  fee: number | null
}

/** The id of the ledger row kept for a credited invoice no run planned. */
export const externalInvoiceId = (starkId: string) => `external-${starkId}`

export type CreditSettlement =
  | {
      kind: 'first'
      /** The row that takes the credit: found by Stark Bank id, adopted by our tag, or a new one. */
      invoice: { kind: 'known' | 'adopted' | 'external'; id: string }
      payout: { kind: 'pay' } | { kind: 'skip'; reason: string }
      outcome: string
      /** `anomaly`: the invoice carries paybridge's tag but no planned row of this ledger matched it. */
      flag: 'anomaly' | null
    }
  | { kind: 'later'; invoiceRowId: string; outcome: string }

/**
 * What a credited log does to the ledger. Only the first credit of an invoice counts: it records the
 * credited amount and fee once and pays amount − fee; a later credited log (a late payment's fine and
 * interest, a second log) changes nothing and is kept as an anomaly. The invoice is found by its Stark
 * Bank id, else by paybridge's tag on the planned row (the create answer was lost before the payer
 * paid), else it is a new `external-<id>` row. Under `issued` scope only invoices a run of this ledger
 * planned (found by Stark Bank id, or by the tag on a planned row) are paid out; the others are
 * recorded with the reason. A tag alone proves nothing (anyone in the workspace can write it): a tag
 * that matched no planned row is kept unpaid and flagged as an anomaly.
 */
export function settleCredit(
  decision: CreditDecision,
  found: { byStarkId?: LedgerInvoice | undefined; byTag?: LedgerInvoice | undefined },
): CreditSettlement {
  const row = found.byStarkId ?? found.byTag
  if (row?.status === 'credited') {
    const first =
      row.creditedAmount === null ? 'earlier' : `${brl(row.creditedAmount)} − fee ${brl(row.fee ?? 0)}`
    return {
      kind: 'later',
      invoiceRowId: row.id,
      outcome: `anomaly: invoice ${decision.invoiceId} credited again (amount ${brl(decision.amount)}, fee ${brl(decision.fee)}); the first credit (${first}) stands, nothing changed`,
    }
  }
  const invoice = found.byStarkId
    ? { kind: 'known' as const, id: found.byStarkId.id }
    : found.byTag
      ? { kind: 'adopted' as const, id: found.byTag.id }
      : { kind: 'external' as const, id: externalInvoiceId(decision.invoiceId) }
  const issued = (row?.runId ?? null) !== null
  const strayTag = decision.plannedId !== null && !issued
  const payout =
    decision.kind === 'no-transfer'
      ? { kind: 'skip' as const, reason: decision.reason }
      : decision.scope === 'all' || issued
        ? { kind: 'pay' as const }
        : { kind: 'skip' as const, reason: NOT_ISSUED_REASON }
  const matched =
    invoice.kind === 'adopted'
      ? ` (planned invoice ${invoice.id} matched by its tag)`
      : strayTag
        ? ` (anomaly: tagged as planned invoice ${decision.plannedId}, but this ledger has no planned invoice ${decision.plannedId} waiting for it)`
        : ''
  const outcome =
    payout.kind === 'pay' && decision.kind === 'credit'
      ? `transfer of ${brl(decision.credited)} planned${matched}`
      : `${payout.kind === 'skip' ? payout.reason : ''}${matched}`
  return { kind: 'first', invoice, payout, outcome, flag: strayTag ? 'anomaly' : null }
}

/** The transfer the ledger holds for a credited invoice, as adoption sees it. */
export interface HeldTransfer {
  status: string
  reason: string | null
  /** The plan made at the credit (amount − fee of the first credit), or `{}` on rows recorded without. */
  request: string
}

/**
 * What a run's resume does with a ledger row that already holds the Stark Bank id found for one of
 * its planned invoices: a row paybridge kept for an invoice it only saw credited (the create answer
 * was lost, the payer paid first) is adopted: its credit moves onto the planned row. If that credit
 * was kept unpaid only because paybridge did not know the invoice as its own (PAYOUT_SCOPE=issued),
 * the adoption proves it is: the skipped transfer is released (`pay`) as the transfer planned at the
 * credit, same externalId. Two planned invoices can never share a Stark Bank invoice: a bug, thrown.
 */
export function adoptionFor(
  plannedId: string,
  starkId: string,
  holder: { id: string; runId: string | null } | undefined,
  transfer?: HeldTransfer | undefined,
): { kind: 'none' } | { kind: 'adopt'; payout: 'pay' | 'keep' } {
  if (!holder || holder.id === plannedId) return { kind: 'none' }
  if (holder.runId !== null)
    throw new Error(
      `Stark Bank invoice ${starkId} is already invoice ${holder.id} of run ${holder.runId}; it cannot also be ${plannedId}`,
    )
  const unpaidAsForeign =
    transfer?.status === 'skipped' && transfer.reason === NOT_ISSUED_REASON && holdsPlan(transfer.request)
  return { kind: 'adopt', payout: unpaidAsForeign ? 'pay' : 'keep' }
}

/** Whether a transfer row's request holds a plan the relay can send (not the `{}` of an old skip). */
function holdsPlan(request: string): boolean {
  try {
    const plan = JSON.parse(request) as { externalId?: unknown; amount?: unknown }
    return typeof plan.externalId === 'string' && typeof plan.amount === 'number'
  } catch {
    return false
  }
}

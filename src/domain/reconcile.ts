import { NOT_ISSUED_REASON } from './credit.ts'

/**
 * A credited invoice as the ledger holds it. Amounts are integer cents; times ms since the epoch.
 * `amount` is what the first credit paid (with any fine and interest), not the planned amount.
 */
export interface CreditedInvoice {
  id: string
  starkId: string
  amount: number
  fee: number
  creditedAt: number
}

/** An event the ledger recorded as an anomaly: it changed nothing (a later credit, a stray transfer event). */
export interface AnomalyEvent {
  id: string
  subjectId: string | null
  outcome: string
  receivedAt: number
}

/** Shown beside the mismatches, never one: nothing is owed or missing because of them. */
export type Anomaly =
  | { kind: 'event'; day: string; eventId: string; subjectId: string | null; outcome: string }
  | { kind: 'not-issued'; day: string; invoiceId: string; starkId: string; credited: number }

export type TransferStatus = 'pending' | 'held' | 'created' | 'skipped' | 'dead'

export interface LedgerTransfer {
  id: string
  invoiceStarkId: string
  amount: number
  status: TransferStatus
  /** What Stark Bank last said about it (`success`, `failed`, …), null before any word. */
  bankStatus: string | null
  reason: string | null
  createdAt: number
}

/** One UTC day's money: what was credited (amount − fee) against what was paid out. */
export interface DayTotals {
  day: string
  invoices: number
  /** Σ(amount − fee) over the day's credited invoices. */
  credited: number
  /** Σ amount of their transfers created at Stark Bank. */
  transfersCreated: number
  /** Σ amount of their transfers Stark Bank reported `success` for. */
  transfersConfirmed: number
  /** Σ amount of their transfers still on the way (within the grace period). */
  pending: number
  /** Σ amount of their transfers parked for an operator's approval (over a money limit). */
  held: number
  mismatches: number
  ok: boolean
}

export type Mismatch =
  | { kind: 'missing-transfer'; day: string; invoiceId: string; starkId: string; credited: number }
  | {
      kind: 'amount-differs'
      day: string
      invoiceId: string
      transferId: string
      credited: number
      transferred: number
    }
  | { kind: 'transfer-failed'; day: string; invoiceId: string; transferId: string; amount: number }
  | {
      kind: 'transfer-dead'
      day: string
      invoiceId: string
      transferId: string
      amount: number
      reason: string
    }
  | {
      kind: 'transfer-late'
      day: string
      invoiceId: string
      transferId: string
      amount: number
      since: number
    }
  | {
      kind: 'transfer-without-credit'
      day: string
      transferId: string
      invoiceStarkId: string
      amount: number
    }

export interface Reconciliation {
  ok: boolean
  days: DayTotals[]
  mismatches: Mismatch[]
  anomalies: Anomaly[]
}

/** The UTC day of a time, `YYYY-MM-DD`. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** A day with nothing on it: balanced. */
export function emptyDay(day: string): DayTotals {
  return {
    day,
    invoices: 0,
    credited: 0,
    transfersCreated: 0,
    transfersConfirmed: 0,
    pending: 0,
    held: 0,
    mismatches: 0,
    ok: true,
  }
}

/**
 * Matches every credited invoice with its one transfer, per UTC day of the credit: Σ(amount − fee)
 * against Σ(transfers created) and Σ(transfers confirmed). Mismatches: a credited invoice with no
 * transfer, a transfer whose amount is not the credited amount, a transfer Stark Bank failed, a dead
 * transfer, a transfer still not created after `graceMs`, and a transfer with no credited invoice.
 * A transfer held for an operator's approval is summed apart (`held`) and is not a mismatch.
 * An invoice whose credited amount is ≤ 0 owes nothing and needs no transfer. Anomalies are listed
 * apart and change no verdict: events that changed nothing (`anomalyEvents`, by the day received) and
 * invoices paybridge did not issue and, under PAYOUT_SCOPE=issued, does not pay (not summed).
 */
export function reconcile(
  invoices: CreditedInvoice[],
  transfers: LedgerTransfer[],
  options: { now: number; graceMs?: number },
  anomalyEvents: AnomalyEvent[] = [],
): Reconciliation {
  const graceMs = options.graceMs ?? 15 * 60_000
  const byInvoice = new Map(transfers.map((t) => [t.invoiceStarkId, t]))
  const credited = new Set(invoices.map((i) => i.starkId))
  const days = new Map<string, DayTotals>()
  const mismatches: Mismatch[] = []
  const anomalies: Anomaly[] = []
  const dayOf = (day: string): DayTotals => {
    let totals = days.get(day)
    if (!totals) {
      totals = emptyDay(day)
      days.set(day, totals)
    }
    return totals
  }
  const flag = (m: Mismatch) => {
    mismatches.push(m)
    dayOf(m.day).mismatches++
  }

  for (const invoice of invoices) {
    const day = utcDay(invoice.creditedAt)
    const totals = dayOf(day)
    const owed = Math.max(0, invoice.amount - invoice.fee)
    totals.invoices++
    const transfer = byInvoice.get(invoice.starkId)
    const ids = { day, invoiceId: invoice.id }
    if (transfer?.status === 'skipped' && transfer.reason === NOT_ISSUED_REASON) {
      anomalies.push({ kind: 'not-issued', ...ids, starkId: invoice.starkId, credited: owed })
      continue
    }
    totals.credited += owed
    if (!transfer) {
      if (owed > 0) flag({ kind: 'missing-transfer', ...ids, starkId: invoice.starkId, credited: owed })
      continue
    }
    const t = { ...ids, transferId: transfer.id, amount: transfer.amount }
    if (transfer.status !== 'skipped' && transfer.amount !== owed) {
      flag({
        kind: 'amount-differs',
        ...ids,
        transferId: transfer.id,
        credited: owed,
        transferred: transfer.amount,
      })
    }
    switch (transfer.status) {
      case 'created':
        totals.transfersCreated += transfer.amount
        if (transfer.bankStatus === 'success') totals.transfersConfirmed += transfer.amount
        if (transfer.bankStatus === 'failed') flag({ kind: 'transfer-failed', ...t })
        break
      case 'pending':
        if (options.now - transfer.createdAt > graceMs)
          flag({ kind: 'transfer-late', ...t, since: transfer.createdAt })
        else totals.pending += transfer.amount
        break
      case 'held':
        // An operator's decision pending, not a fault: shown apart, never flagged.
        totals.held += transfer.amount
        break
      case 'dead':
        flag({ kind: 'transfer-dead', ...t, reason: transfer.reason ?? '' })
        break
      case 'skipped':
        if (owed > 0) flag({ kind: 'missing-transfer', ...ids, starkId: invoice.starkId, credited: owed })
        break
    }
  }
  for (const transfer of transfers) {
    if (credited.has(transfer.invoiceStarkId)) continue
    const day = utcDay(transfer.createdAt)
    dayOf(day)
    flag({
      kind: 'transfer-without-credit',
      day,
      transferId: transfer.id,
      invoiceStarkId: transfer.invoiceStarkId,
      amount: transfer.amount,
    })
  }

  for (const e of anomalyEvents) {
    const day = utcDay(e.receivedAt)
    dayOf(day)
    anomalies.push({ kind: 'event', day, eventId: e.id, subjectId: e.subjectId, outcome: e.outcome })
  }

  const sorted = [...days.values()].sort((a, b) => a.day.localeCompare(b.day))
  for (const d of sorted) d.ok = d.mismatches === 0 && d.credited === d.transfersCreated + d.pending + d.held
  return { ok: sorted.every((d) => d.ok), days: sorted, mismatches, anomalies }
}

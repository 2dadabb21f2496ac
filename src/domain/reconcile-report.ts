import { NOT_ISSUED_REASON } from './credit.ts'
import { shownTime } from './ledger-time.ts'
import { brl } from './money.ts'
import type { Anomaly, DayTotals, Mismatch, Reconciliation } from './reconcile.ts'

// A reconciliation as it leaves paybridge: lines for people (money in `brl`), and JSON for scripts
// (`ledger reconcile --json`, `/admin/api/reconcile`): every amount integer cents under a `…Cents`
// name, every time ISO 8601 UTC.

/** One line per anomaly, for people. */
export function describeAnomaly(a: Anomaly): string {
  switch (a.kind) {
    case 'event':
      return `${a.day} event ${a.eventId}${a.subjectId ? ` (${a.subjectId})` : ''}: ${a.outcome}`
    case 'not-issued':
      return `${a.day} invoice ${a.invoiceId} (${a.starkId}) credited ${brl(a.credited)}, not paid out: ${NOT_ISSUED_REASON}`
  }
}

/** One line per mismatch, for people. */
export function describeMismatch(m: Mismatch): string {
  switch (m.kind) {
    case 'missing-transfer':
      return `${m.day} invoice ${m.invoiceId} (${m.starkId}) credited ${brl(m.credited)} but has no transfer`
    case 'amount-differs':
      return `${m.day} invoice ${m.invoiceId} credited ${brl(m.credited)} but transfer ${m.transferId} is ${brl(m.transferred)}`
    case 'transfer-failed':
      return `${m.day} transfer ${m.transferId} of ${brl(m.amount)} for invoice ${m.invoiceId} failed at Stark Bank`
    case 'transfer-dead':
      return `${m.day} transfer ${m.transferId} of ${brl(m.amount)} for invoice ${m.invoiceId} is dead: ${m.reason}`
    case 'transfer-late':
      return `${m.day} transfer ${m.transferId} of ${brl(m.amount)} for invoice ${m.invoiceId} not created since ${shownTime(m.since)}`
    case 'transfer-without-credit':
      return `${m.day} transfer ${m.transferId} of ${brl(m.amount)} has no credited invoice ${m.invoiceStarkId}`
  }
}

/** The reconciliation's amounts (cents) and times (ms), by field name. */
const MONEY = [
  'credited',
  'transferred',
  'amount',
  'transfersCreated',
  'transfersConfirmed',
  'pending',
  'held',
] as const
type Money = (typeof MONEY)[number]
const isMoney = (key: string): key is Money => (MONEY as readonly string[]).includes(key)

/** An object of the reconciliation as JSON: `x` in cents becomes `xCents`; `since` an ISO time. */
export type AsJson<T> = T extends unknown
  ? { [K in keyof T as K extends Money ? `${K}Cents` : K]: K extends 'since' ? string : T[K] }
  : never

export interface ReconciliationJson {
  ok: boolean
  days: AsJson<DayTotals>[]
  mismatches: AsJson<Mismatch>[]
  anomalies: AsJson<Anomaly>[]
}

function asJson<T extends object>(o: T): AsJson<T> {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) =>
      isMoney(k) ? [`${k}Cents`, v] : k === 'since' ? [k, shownTime(v)] : [k, v],
    ),
  ) as AsJson<T>
}

/** The reconciliation as scripts read it (any other fields of `result`, such as `from`, kept). */
export function reconciliationJson<R extends Reconciliation>(
  result: R,
): Omit<R, keyof ReconciliationJson> & ReconciliationJson {
  return {
    ...result,
    days: result.days.map(asJson),
    mismatches: result.mismatches.map(asJson),
    anomalies: result.anomalies.map(asJson),
  }
}

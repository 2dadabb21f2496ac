import type { AnomalyEvent, CreditedInvoice, LedgerTransfer } from '../domain/reconcile.ts'

// The ledger as operators read it (CLI `ledger <view>` / `ledger trace` / `ledger reconcile`, /admin,
// the ledger gauges): one port, written once for both engines. Reads only; every method is async
// because PostgreSQL is.

export const QUERY_VIEWS = [
  'runs',
  'invoices',
  'events',
  'transfers',
  'outbox',
  'dead-letters',
  'forwards',
] as const
export type QueryView = (typeof QUERY_VIEWS)[number]

export interface ViewFilter {
  /** The view's state column (what it matches is listed in the CLI usage). */
  status?: string
  /** Rows at or after this time (ms since the epoch), by the view's time column. */
  since?: number
  /** At most this many rows (default 50). */
  limit?: number
}

/**
 * One row of a view, for scripts and people alike: times as ISO 8601 UTC (`shownTime`), money as
 * integer cents under a `…_cents` column (null when the ledger has none), other blanks as ''.
 * Tables show a `…_cents` column as money (`brl`) under the name without the suffix.
 */
export type ViewRow = Record<string, string | number | null>

/** One step of an item's life as the ledger saw it. Payloads are never included. */
export interface TraceStep {
  step: 'run' | 'invoice' | 'event' | 'outbox' | 'transfer' | 'forward' | 'dead-letter' | 'queued'
  id: string
  status: string
  /** ISO 8601 UTC (`shownTime`), null when the ledger has no time for it. */
  at: string | null
  /** What the step shows; money as integer cents under a `…_cents` key. */
  detail: Record<string, string | number>
}

export interface Trace {
  query: string
  /** What the id was recognised as; null when the ledger knows nothing of it. */
  found: 'stark-event' | 'invoice' | 'transfer' | 'run' | 'stripe-event' | 'message' | null
  steps: TraceStep[]
}

/** How many rows sit in each state, keyed by the state ('' for none). */
export type Counts = Record<string, number>

/** How many rows sit in each state of the flow, read at once for metrics and the status page. */
export interface LedgerCounts {
  /** Invoices by status (planned, issued, credited). */
  invoices: Counts
  /** Transfers by paybridge's status (pending, held, created, skipped, dead). */
  transfers: Counts
  /** Transfers by the status Stark Bank last reported ('' when none yet). */
  transferBank: Counts
  /** Outbox rows by kind, then status. */
  outbox: Record<string, Counts>
  /** Stripe forwards by status. */
  forwards: Counts
  /** Dead letters by queue. */
  deadLetters: Counts
}

/** Something dead in the ledger, with what a replay of it takes. */
export interface DeadItem {
  kind: 'transfer' | 'forward' | 'dead-letter'
  id: string
  /** Where it died: the queue, or the outbox. */
  where: string
  reason: string
  at: number
}

/** The ledger's side of the status page, read in one snapshot. */
export interface LedgerStatus {
  counts: LedgerCounts
  /** The latest scheduler runs, as the `runs` view shows them. */
  runs: ViewRow[]
  dead: DeadItem[]
}

/** What a reconciliation of [start, end) reads: see the domain's `reconcile`. */
export interface ReconcileRows {
  invoices: CreditedInvoice[]
  transfers: LedgerTransfer[]
  anomalies: AnomalyEvent[]
}

export interface LedgerViews {
  /** A ledger view, newest first, filtered by status and time. */
  rows(view: QueryView, filter?: ViewFilter): Promise<ViewRow[]>
  /**
   * One item's lineage from any of its ids: a Stark Bank event id, an invoice id (ours or Stark
   * Bank's), a transfer id (= externalId) or Stark Bank transfer id, a run id, a Stripe event id or
   * a queue message id.
   */
  trace(id: string): Promise<Trace>
  counts(): Promise<LedgerCounts>
  /** Dead transfers, forwards and dead letters, newest first, at most `limit`. */
  dead(limit: number): Promise<DeadItem[]>
  /** Counts, the latest `runs` runs and the dead items (at most `deadLimit`), all from one snapshot. */
  status(options: { runs: number; deadLimit: number }): Promise<LedgerStatus>
  /** The rows a reconciliation of [start, end) needs, from one snapshot. */
  reconcileRows(window: { start: number; end: number }): Promise<ReconcileRows>
}

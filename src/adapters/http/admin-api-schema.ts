import * as v from 'valibot'
import { parseSince } from '../../domain/ledger-time.ts'
import { dayStart } from '../../domain/reconcile-window.ts'
import { QUERY_VIEWS, type QueryView } from '../../ports/ledger-views.ts'

// What the admin JSON API takes and answers, once: the routes validate their params and query with
// these schemas and /admin/api/openapi.json is generated from them (admin-openapi.ts), so the
// document cannot drift from the routes. Query values arrive as text: their schemas take strings.

export const REPLAY_KINDS = ['transfer', 'transfers', 'forward', 'dead-letter'] as const
export type ReplayKind = (typeof REPLAY_KINDS)[number]

const LIMIT = 'limit must be a whole number from 1 to 1000'
const SINCE = 'since: ISO time or age (6h)'
const isDay = (d: string) => {
  try {
    dayStart(d)
    return true
  } catch {
    return false
  }
}

/** `?status=&since=&limit=` of a view: `limit` comes out as a number (default 50). */
export const ViewQuery = v.object({
  status: v.optional(v.pipe(v.string(), v.description("the view's state column, matched exactly"))),
  since: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^([0-9]+[smhd]|[0-9]{4}-[0-9]{2}-[0-9]{2}.*)$/, SINCE),
      v.check((s) => parseSince(s, 0) !== undefined, SINCE),
      v.description(
        'rows at or after this time: an ISO time (2026-03-01, 2026-03-01T12:00Z) or an age (45s, 30m, 6h, 2d)',
      ),
    ),
  ),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[0-9]+$/, LIMIT),
      v.description('at most this many rows, 1 to 1000 (default 50)'),
      v.transform(Number),
      v.integer(LIMIT),
      v.minValue(1, LIMIT),
      v.maxValue(1000, LIMIT),
    ),
    '50',
  ),
})

const day = (name: string, what: string) => {
  const refused = (issue: { input: unknown }) => `${name}: not a day: "${issue.input}" (want YYYY-MM-DD)`
  return v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, refused),
      v.check(isDay, refused),
      v.description(what),
    ),
  )
}

/** `?day=|from=` of the reconciliation: one UTC day, or every day from one on; neither: all days. */
export const ReconcileQuery = v.object({
  day: day('day', 'one UTC day, YYYY-MM-DD'),
  from: day('from', 'every UTC day from this one on, YYYY-MM-DD'),
})

export const TraceParams = v.object({
  id: v.pipe(
    v.string(),
    v.description(
      'a Stark Bank event id, an invoice id (ours or Stark Bank’s), a transfer id or Stark Bank transfer id, a run id, a Stripe event id or a queue message id',
    ),
  ),
})

export const ReplayParams = v.object({
  kind: v.pipe(
    v.picklist(REPLAY_KINDS, `kind must be ${REPLAY_KINDS.join(', ')}`),
    v.description('what to replay'),
  ),
  id: v.pipe(
    v.string(),
    v.description(
      'the ledger id of the dead transfer or forward, the dead letter’s row id, or `dead` for every dead transfer',
    ),
  ),
})

export const ErrorBody = v.strictObject({ error: v.string() })

export const ReplayResult = v.strictObject({ ok: v.boolean(), message: v.string() })

const text = v.string()
/** ISO 8601 UTC with its `Z`; '' when the ledger has no time for it. */
const shown = v.pipe(v.string(), v.description('ISO 8601 UTC (…Z); empty when none'))
const count = v.pipe(v.number(), v.integer())
const cents = v.nullable(v.pipe(v.number(), v.integer(), v.description('integer cents; null when none')))

/** One row of each view (`ledger <view> --json` gives the same rows). */
export const VIEW_ROWS = {
  runs: v.strictObject({
    run: text,
    status: text,
    invoices: count,
    planned: shown,
    issued: shown,
    attempts: count,
    error: text,
  }),
  invoices: v.strictObject({
    invoice: text,
    stark_id: text,
    status: text,
    amount_cents: cents,
    paid_cents: cents,
    fee_cents: cents,
    name: text,
    tax_id: text,
    credited: shown,
  }),
  events: v.strictObject({
    event: text,
    source: text,
    subscription: text,
    type: text,
    subject: text,
    flag: text,
    outcome: text,
    received: shown,
  }),
  transfers: v.strictObject({
    transfer: text,
    invoice: text,
    amount_cents: cents,
    status: text,
    stark_id: text,
    bank_status: text,
    reason: text,
    updated: shown,
  }),
  outbox: v.strictObject({
    id: text,
    kind: text,
    status: text,
    attempts: count,
    next_attempt: shown,
    last_error: text,
  }),
  'dead-letters': v.strictObject({
    id: count,
    queue: text,
    message: text,
    reason: text,
    receives: count,
    body: v.pipe(v.string(), v.maxLength(60)),
    at: shown,
  }),
  forwards: v.strictObject({
    event: text,
    type: text,
    shape: text,
    status: text,
    attempts: count,
    last_status: text,
    latency_ms: text,
    error: text,
    received: shown,
    delivered: shown,
  }),
} satisfies Record<QueryView, v.GenericSchema>

export const viewBody = (view: QueryView) => v.array(VIEW_ROWS[view])
export { QUERY_VIEWS }

export const TraceBody = v.strictObject({
  query: text,
  found: v.nullable(v.picklist(['stark-event', 'invoice', 'transfer', 'run', 'stripe-event', 'message'])),
  steps: v.array(
    v.strictObject({
      step: v.picklist(['run', 'invoice', 'event', 'outbox', 'transfer', 'forward', 'dead-letter', 'queued']),
      id: text,
      status: text,
      at: v.nullable(shown),
      detail: v.record(v.string(), v.union([v.string(), v.number()])),
    }),
  ),
})

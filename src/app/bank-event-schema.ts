import * as v from 'valibot'
import type { BankEvent } from '../domain/bank-event.ts'
import { issueReasons } from './issue-reasons.ts'

// Stark Bank's webhook body and the worker's queue message share this schema: `{"event": {...}}`.
// Only what paybridge reads is checked; other fields pass through untouched.

const cents = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER))
// Stark Bank issues every id (event, log, invoice, transfer) as a string of ASCII digits, such as
// "5656565656565656"; anything else did not come from it and must not reach the ledger.
const id = v.pipe(v.string(), v.regex(/^[0-9]{1,32}$/, 'must be a Stark Bank id (1–32 digits)'))
const tags = v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(256))), v.maxLength(100)), [])

// `fee` may be absent on logs that are not credits; a credit without one is refused below, since a
// missing fee read as 0 would pay out the whole amount.
const InvoiceSchema = v.object({ id, amount: cents, fee: v.optional(cents), status: v.string(), tags })
const TransferSchema = v.object({
  id,
  amount: cents,
  status: v.string(),
  externalId: v.optional(v.string()),
  tags,
})

const BodySchema = v.object({
  event: v.object({
    id,
    subscription: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
    created: v.optional(v.string(), ''),
    log: v.object({
      id,
      type: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
      invoice: v.optional(InvoiceSchema),
      transfer: v.optional(TransferSchema),
    }),
  }),
})

export type ParsedBankEvent = { ok: true; event: BankEvent } | { ok: false; reason: string }

/** Parses a raw Stark Bank event body. Never throws: bad input is a value with the reason. */
export function parseBankEvent(raw: string): ParsedBankEvent {
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    return { ok: false, reason: 'body is not JSON' }
  }
  const parsed = v.safeParse(BodySchema, json)
  if (!parsed.success) {
    return { ok: false, reason: `not a Stark Bank event: ${issueReasons(parsed.issues)}` }
  }
  const e = parsed.output.event
  if (e.subscription === 'invoice' && e.log.type === 'credited' && !e.log.invoice) {
    return { ok: false, reason: 'not a Stark Bank event: event.log.invoice: missing on a credited log' }
  }
  if (e.subscription === 'invoice' && e.log.type === 'credited' && e.log.invoice?.fee === undefined) {
    return {
      ok: false,
      reason:
        'not a Stark Bank event: event.log.invoice.fee: missing on a credited log (the fee is needed to pay out amount − fee)',
    }
  }
  return { ok: true, event: e }
}

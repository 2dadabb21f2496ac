import * as v from 'valibot'
import { STRIPE_EVENT_ID, type StripeEvent } from '../domain/stripe-event.ts'
import { issueReasons } from './issue-reasons.ts'

// The three ways a Stripe event arrives on the queue. Only what paybridge reads is checked; the event
// itself passes through untouched (it is forwarded, not interpreted).

const EventSchema = v.object({
  id: v.pipe(v.string(), v.regex(STRIPE_EVENT_ID, 'must be a Stripe event id (evt_…)')),
  object: v.literal('event', 'must be "event"'),
  type: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
})

/** Stripe's Amazon EventBridge integration: the event is `detail`, its type `detail-type`. */
const EventBridgeSchema = v.object({
  'detail-type': v.pipe(v.string(), v.minLength(1)),
  source: v.pipe(v.string(), v.minLength(1)),
  detail: EventSchema,
})

/** An SNS notification (raw message delivery off): the message is one of the above, as a string. */
const SnsSchema = v.object({
  Type: v.literal('Notification'),
  Message: v.string(),
})

export type ParsedStripeMessage = { ok: true; event: StripeEvent } | { ok: false; reason: string }

const explain = issueReasons

/**
 * Parses one queue message body into the Stripe event to forward. Never throws: a body paybridge
 * cannot use is a value with the reason, for the dead letters.
 */
export function parseStripeMessage(raw: string): ParsedStripeMessage {
  return parse(raw, false)
}

function parse(raw: string, insideSns: boolean): ParsedStripeMessage {
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    return { ok: false, reason: insideSns ? 'SNS Message is not JSON' : 'body is not JSON' }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'not a Stripe event: body is not a JSON object' }
  }
  const record = json as Record<string, unknown>

  if (!insideSns && 'Type' in record) {
    const sns = v.safeParse(SnsSchema, json)
    if (!sns.success) return { ok: false, reason: `not an SNS notification: ${explain(sns.issues)}` }
    const inner = parse(sns.output.Message, true)
    if (!inner.ok) return { ok: false, reason: `SNS Message: ${inner.reason}` }
    return { ok: true, event: { ...inner.event, shape: 'sns' } }
  }

  if ('detail' in record || 'detail-type' in record) {
    const bridge = v.safeParse(EventBridgeSchema, json)
    if (!bridge.success)
      return { ok: false, reason: `not an EventBridge envelope: ${explain(bridge.issues)}` }
    const { detail } = bridge.output
    // The envelope holds the event as JSON, not as text: forward its canonical serialisation.
    let body: string
    try {
      body = JSON.stringify(record.detail)
    } catch {
      // JSON.parse takes nesting deep enough to overflow JSON.stringify's stack.
      return { ok: false, reason: 'not an EventBridge envelope: detail is nested too deeply' }
    }
    return { ok: true, event: { id: detail.id, type: detail.type, shape: 'eventbridge', body } }
  }

  const event = v.safeParse(EventSchema, json)
  if (!event.success) return { ok: false, reason: `not a Stripe event: ${explain(event.issues)}` }
  // The message is the event itself: forward its bytes as they came.
  return { ok: true, event: { id: event.output.id, type: event.output.type, shape: 'raw', body: raw } }
}

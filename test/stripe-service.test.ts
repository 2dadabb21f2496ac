import { afterAll, describe, expect, it } from 'bun:test'
import Stripe from 'stripe'
import { stripeSignatureHeader } from '../src/adapters/stripe/signature.ts'
import { startStripeServiceStandIn } from '../src/emulator/stripe-service.ts'

// The local Stripe-processing stand-in checks every Stripe-Signature as an unchanged downstream does
// with the official package: what the package signs is accepted; anything else is a 400.

const SECRET = 'whsec_stand_in_test_secret'
const PATH = '/api/v1/Stripe/Webhook'
const stripe = new Stripe('sk_test_stand_in')
const body = JSON.stringify({
  id: 'evt_standin_1',
  object: 'event',
  type: 'invoice.paid',
  data: { object: {} },
})
const nowS = () => Math.floor(Date.now() / 1000)

describe('local Stripe-processing stand-in', () => {
  const standIn = startStripeServiceStandIn({ secret: SECRET })
  afterAll(() => standIn.stop())
  const post = (payload: string, signature?: string, path = PATH) =>
    fetch(`${standIn.url}${path}`, {
      method: 'POST',
      body: payload,
      headers: {
        'Content-Type': 'application/json',
        ...(signature ? { 'Stripe-Signature': signature } : {}),
      },
    })

  it("accepts what the official stripe package signs, and paybridge's own signature", async () => {
    const byPackage = await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: SECRET })
    expect((await post(body, byPackage)).status).toBe(200)
    const byPaybridge = stripeSignatureHeader(body, SECRET, nowS())
    const answer = await post(body, byPaybridge)
    expect(answer.status).toBe(200)
    expect(await answer.json()).toEqual({ received: true })
    expect(standIn.deliveries().slice(-2)).toEqual([
      expect.objectContaining({ eventId: 'evt_standin_1', type: 'invoice.paid' }),
      expect.objectContaining({ eventId: 'evt_standin_1', type: 'invoice.paid' }),
    ])
    expect(standIn.deliveries().every((d) => d.refused === undefined)).toBe(true)
  })

  it('refuses a tampered body, another secret, a stale timestamp and a missing or malformed header with 400', async () => {
    const before = standIn.deliveries().length
    const good = stripeSignatureHeader(body, SECRET, nowS())
    const cases: [string, string | undefined, RegExp][] = [
      [body.replace('invoice.paid', 'invoice.voided'), good, /no v1 signature matches/],
      [body, stripeSignatureHeader(body, 'whsec_someone_else', nowS()), /no v1 signature matches/],
      [body, stripeSignatureHeader(body, SECRET, nowS() - 301), /timestamp is 30\d s off/],
      [body, undefined, /no Stripe-Signature header/],
      [body, 'v1=abc', /has no t=/],
    ]
    for (const [payload, signature, reason] of cases) {
      const answer = await post(payload, signature)
      expect(answer.status).toBe(400)
      expect(await answer.text()).toMatch(reason)
    }
    const refused = standIn.deliveries().slice(before)
    expect(refused).toHaveLength(cases.length)
    expect(refused.every((d) => d.refused !== undefined)).toBe(true)
  })

  it('answers 404 off its webhook path', async () => {
    expect((await post(body, stripeSignatureHeader(body, SECRET, nowS()), '/webhook')).status).toBe(404)
  })
})

import { createHmac } from 'node:crypto'

/**
 * `Stripe-Signature` as Stripe sends it: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * An unchanged downstream calling `stripe.webhooks.constructEvent` accepts it within its 300 s
 * tolerance, so it is made afresh for every attempt.
 */
export function stripeSignatureHeader(body: string, secret: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex')
  return `t=${unixSeconds},v1=${v1}`
}

/** A signer bound to the secret the downstream verifies with. */
export function stripeSigner(secret: string): (body: string, unixSeconds: number) => string {
  return (body, unixSeconds) => stripeSignatureHeader(body, secret, unixSeconds)
}

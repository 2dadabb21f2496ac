import { describe, expect, it } from 'bun:test'
import { stripeWebhookUrl } from '../src/app/stripe-forwarding.ts'

describe('the Stripe-processing service endpoint', () => {
  it('appends the webhook path to the service URL, keeping a base path', () => {
    expect(stripeWebhookUrl('http://stripe.internal:8080')).toBe(
      'http://stripe.internal:8080/api/v1/Stripe/Webhook',
    )
    expect(stripeWebhookUrl('https://svc.example/base/')).toBe(
      'https://svc.example/base/api/v1/Stripe/Webhook',
    )
  })

  it('keeps a query string after the path, not before it', () => {
    expect(stripeWebhookUrl('https://svc.example/base?code=abc')).toBe(
      'https://svc.example/base/api/v1/Stripe/Webhook?code=abc',
    )
  })
})

import { stripeWebhookUrl } from '../../app/stripe-forwarding.ts'
import { redactUrl } from '../../domain/redacted-url.ts'
import type { DownstreamProbe } from '../../ports/doctor-probes.ts'

/**
 * Whether the Stripe-processing service answers at its webhook URL: a plain GET, unsigned and with
 * no event (the service refuses it, which is an answer), within the forwarder's timeout.
 */
export function stripeDownstreamProbe(serviceUrl: string, timeoutMs: number): DownstreamProbe {
  const url = stripeWebhookUrl(serviceUrl)
  return {
    url: redactUrl(url),
    async reach() {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' })
      await response.arrayBuffer().catch(() => undefined)
      return response.status
    },
  }
}

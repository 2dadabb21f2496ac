import starkbank from 'starkbank'
import type { Bank } from '../../ports/bank.ts'
import { sdkCall } from './bank-errors.ts'

/** The SDK's fixed hosts, which `apiUrl` replaces (see starkcore's request.js). */
const HOSTS = { production: 'https://api.starkbank.com', sandbox: 'https://sandbox.api.starkbank.com' }

/** The workspace's balance and Stark Bank's clock. */
export function starkAccount(deps: {
  user: starkbank.Project
  environment: 'sandbox' | 'production'
  apiUrl?: string | undefined
  timeoutMs: number
}): Pick<Bank, 'balance' | 'serverTime'> {
  return {
    async balance() {
      const balance = await sdkCall('get the balance', () => starkbank.balance.get({ user: deps.user }))
      return { amount: balance.amount, currency: balance.currency }
    },

    // The SDK keeps no response headers, so the Date of a plain GET (signed or not, any status) is
    // read instead: Stark Bank's clock to the second, taken halfway through the round trip.
    async serverTime() {
      const base = deps.apiUrl ?? HOSTS[deps.environment]
      const started = Date.now()
      const response = await sdkCall('read Stark Bank’s clock', () =>
        fetch(`${base}/v2/public-key?limit=1`, { signal: AbortSignal.timeout(deps.timeoutMs) }),
      )
      await response.arrayBuffer().catch(() => undefined)
      const finished = Date.now()
      const date = Date.parse(response.headers.get('date') ?? '')
      if (Number.isNaN(date)) throw new Error(`Stark Bank's answer from ${base} carries no Date header`)
      return { at: date, localAt: (started + finished) / 2, roundTripMs: finished - started }
    },
  }
}

import { BankError, type BankErrorDetail } from '../../ports/bank.ts'

// What the starkbank SDK throws, mapped to the Bank port's BankError: one mapping for every call.

const NETWORK_CODES = new Set([
  'ECONNABORTED',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
])

function retryAfterMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** Statuses that mean "not now, try again" (request timeout, too early, too many requests). */
const TRANSIENT_4XX = new Set([408, 425, 429])

function detailsOf(errors: unknown): BankErrorDetail[] {
  if (!Array.isArray(errors)) return []
  return errors.map((e: { code?: unknown; message?: unknown }) => ({
    code: String(e?.code ?? 'unknown'),
    message: String(e?.message ?? ''),
  }))
}

interface SdkFailure {
  errors?: unknown
  status?: number
  code?: string
  message?: string
  isAxiosError?: boolean
  response?: { status: number; data?: unknown; headers?: Record<string, unknown> }
}

/** Maps whatever the SDK threw; errors that are not the bank's or the network's are rethrown as they are. */
export function toBankError(action: string, thrown: unknown): unknown {
  if (thrown instanceof BankError || typeof thrown !== 'object' || thrown === null) return thrown
  const e = thrown as SdkFailure
  // starkcore's InputErrors (400): check the shape, the class may come from another starkcore copy.
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    const details = detailsOf(e.errors)
    const reasons = details.map((d) => `${d.code}: ${d.message}`).join('; ')
    return new BankError('rejected', `${action} rejected: ${reasons}`, details, e.status ?? 400)
  }
  const status = e.response?.status ?? e.status
  if (typeof status === 'number') {
    const details = detailsOf((e.response?.data as { errors?: unknown } | undefined)?.errors)
    if (status >= 500 || TRANSIENT_4XX.has(status)) {
      const after = retryAfterMs(e.response?.headers?.['retry-after'])
      return new BankError('transient', `${action} failed: HTTP ${status}`, details, status, after)
    }
    // Only Stark Bank's own error list is its refusal; without it the 4xx came from elsewhere.
    if (details.length === 0)
      return new BankError(
        'blocked',
        `${action} refused: HTTP ${status} without Stark Bank's error list`,
        [],
        status,
      )
    const reasons = details.map((d) => `${d.code}: ${d.message}`).join('; ')
    return new BankError('rejected', `${action} rejected: ${reasons}`, details, status)
  }
  if (e.isAxiosError || (e.code && NETWORK_CODES.has(e.code))) {
    return new BankError('transient', `${action} failed: ${e.code ?? e.message ?? 'network error'}`)
  }
  return thrown
}

/** Runs one SDK call, its failure mapped by `toBankError`. */
export async function sdkCall<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (thrown) {
    throw toBankError(action, thrown)
  }
}

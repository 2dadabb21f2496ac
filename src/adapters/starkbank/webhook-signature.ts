import type { Clock } from '../../ports/clock.ts'
import type { Log } from '../../ports/log.ts'
import { ecdsaBackendInfo, publicKeyFromPem, verify } from './ecdsa.ts'

export interface SignatureVerifier {
  /** True when `signature` is Stark Bank's over exactly these bytes. Throws only if no key can be had. */
  verify(body: Uint8Array, signature: string): Promise<boolean>
  /** Whether a public key is loaded (for readiness). */
  loaded(): boolean
}

/**
 * Verifies `Digital-Signature` against Stark Bank's public key, fetched once and cached. Stark Bank's
 * rate limit is shared with transfers, so no caller can make paybridge hammer it: concurrent callers
 * share one fetch in flight; after a failed fetch none is made for a backoff (`minBackoffMs`
 * doubling to `maxBackoffMs`, reset by a success), and callers meanwhile get the last error; a failed
 * verification may mean Stark rotated its key, so the key is fetched again, but at most once per
 * `minRefetchMs`.
 */
export function starkSignatureVerifier(deps: {
  fetchPublicKey: () => Promise<string>
  clock: Clock
  log: Log
  minRefetchMs?: number
  minBackoffMs?: number
  maxBackoffMs?: number
}): SignatureVerifier {
  const minRefetchMs = deps.minRefetchMs ?? 60_000
  const minBackoffMs = deps.minBackoffMs ?? 1_000
  const maxBackoffMs = deps.maxBackoffMs ?? 60_000
  const backend = ecdsaBackendInfo()
  if (backend.fallbackReason === undefined) deps.log.info('webhook signatures: libsecp256k1 (native)')
  else
    deps.log.warn('webhook signatures: @noble/curves (native libsecp256k1 not loaded, ~8x slower)', {
      reason: backend.fallbackReason,
    })
  let key: Uint8Array | undefined
  let fetchedAt = Number.NEGATIVE_INFINITY
  let fetching: Promise<Uint8Array> | undefined
  let failures = 0
  let retryAt = Number.NEGATIVE_INFINITY
  let lastError = ''

  function load(): Promise<Uint8Array> {
    if (fetching) return fetching
    const now = deps.clock()
    if (now < retryAt) {
      return Promise.reject(
        new Error(`Stark Bank public key fetch failed (${lastError}); next try in ${retryAt - now} ms`),
      )
    }
    fetching = (async () => {
      try {
        fetchedAt = now
        const pem = await deps.fetchPublicKey()
        const loadedKey = publicKeyFromPem(pem)
        if (key) deps.log.info('Stark Bank public key refetched')
        key = loadedKey
        failures = 0
        retryAt = Number.NEGATIVE_INFINITY
        return loadedKey
      } catch (err) {
        const backoffMs = Math.min(maxBackoffMs, minBackoffMs * 2 ** failures)
        failures += 1
        retryAt = deps.clock() + backoffMs
        lastError = err instanceof Error ? err.message : String(err)
        deps.log.warn('Stark Bank public key fetch failed', {
          error: lastError,
          failures,
          retryInMs: backoffMs,
        })
        throw err
      } finally {
        fetching = undefined
      }
    })()
    return fetching
  }

  return {
    loaded: () => key !== undefined,
    async verify(body, signature) {
      const current = key ?? (await load())
      if (verify(body, signature, current)) return true
      if (deps.clock() - fetchedAt < minRefetchMs) return false
      const fresh = await load()
      return fresh !== current && verify(body, signature, fresh)
    },
  }
}

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
 * Verifies `Digital-Signature` against Stark Bank's public key, fetched once and cached. A failed
 * verification may mean Stark rotated its key, so the key is fetched again, but at most once per
 * `minRefetchMs`: forged requests cannot make paybridge hammer Stark Bank.
 */
export function starkSignatureVerifier(deps: {
  fetchPublicKey: () => Promise<string>
  clock: Clock
  log: Log
  minRefetchMs?: number
}): SignatureVerifier {
  const minRefetchMs = deps.minRefetchMs ?? 60_000
  const backend = ecdsaBackendInfo()
  if (backend.fallbackReason === undefined) deps.log.info('webhook signatures: libsecp256k1 (native)')
  else
    deps.log.warn('webhook signatures: @noble/curves (native libsecp256k1 not loaded, ~8x slower)', {
      reason: backend.fallbackReason,
    })
  let key: Uint8Array | undefined
  let fetchedAt = Number.NEGATIVE_INFINITY
  let fetching: Promise<Uint8Array> | undefined

  function load(): Promise<Uint8Array> {
    fetching ??= (async () => {
      try {
        fetchedAt = deps.clock()
        const pem = await deps.fetchPublicKey()
        const loadedKey = publicKeyFromPem(pem)
        if (key) deps.log.info('Stark Bank public key refetched')
        key = loadedKey
        return loadedKey
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

import { createRequire } from 'node:module'
import { sign } from './ecdsa.ts'

// The starkbank SDK signs every request (Access-Signature) with starkbank-ecdsa, pure JavaScript over
// big-integer: its first signature in a process builds a table of generator powers (~40 ms of CPU, on
// the start-up path: the gap fill and the public key are the first calls) and each later one costs
// milliseconds on the relay's path. paybridge's ECDSA backend (libsecp256k1, else @noble/curves) signs
// the same message (Access-Id:Access-Time:body, SHA-256) in ~0.1 ms: a standard secp256k1 signature
// with a low S, as the SDK's is, though not the same bytes (starkbank-ecdsa derives its nonce its own
// way). test/starkbank-sdk-signing.test.ts checks it with starkbank-ecdsa's own verify.

/** The slice of starkbank-ecdsa's PrivateKey the signer reads: its secret, a big-integer. */
interface SdkPrivateKey {
  secret: { toString(radix: number): string }
}

/** The SDK's signer, swapped out by `signSdkRequestsNatively`. */
export type SdkSign = (message: string, privateKey: SdkPrivateKey) => { toBase64(): string }

/** starkbank-ecdsa's `Ecdsa`, as the SDK (starkcore's request module) loads it. */
function sdkEcdsa(): { sign: SdkSign } {
  const require = createRequire(import.meta.url)
  const starkcoreRequire = createRequire(require.resolve('starkcore'))
  return starkcoreRequire('starkbank-ecdsa').Ecdsa
}

/** The base64 DER signature the SDK sends for `message`, computed by paybridge's ECDSA backend. */
export function sdkRequestSignature(message: string, privateKey: SdkPrivateKey): string {
  const secret = Buffer.from(privateKey.secret.toString(16).padStart(64, '0'), 'hex')
  return sign(message, secret)
}

let installed = false

/**
 * Makes the SDK sign its requests through `sdkRequestSignature`. Process-global like the SDK's own
 * transport hooks; idempotent.
 */
export function signSdkRequestsNatively(): void {
  if (installed) return
  installed = true
  const ecdsa = sdkEcdsa()
  ecdsa.sign = (message, privateKey) => {
    const signature = sdkRequestSignature(message, privateKey)
    return { toBase64: () => signature }
  }
}

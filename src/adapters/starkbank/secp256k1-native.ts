import { createRequire } from 'node:module'

/** The slice of libsecp256k1 (through the `secp256k1` npm package's N-API binding) paybridge uses. */
export interface NativeSecp256k1 {
  /** DER → 64-byte r‖s (lax DER, as libsecp256k1 parses it). Throws on unparsable input. */
  signatureImport(der: Uint8Array): Uint8Array
  /** Rewrites a 64-byte r‖s in place to its low-S twin. */
  signatureNormalize(rs: Uint8Array): Uint8Array
  /** Verifies a 64-byte low-S r‖s over a 32-byte hash. Throws on an unparsable key or signature. */
  ecdsaVerify(rs: Uint8Array, hash32: Uint8Array, point: Uint8Array): boolean
  ecdsaSign(hash32: Uint8Array, secret: Uint8Array): { signature: Uint8Array }
  signatureExport(rs: Uint8Array): Uint8Array
  publicKeyCreate(secret: Uint8Array, compressed: boolean): Uint8Array
}

/**
 * Loads libsecp256k1's prebuilt N-API binary shipped inside the `secp256k1` package
 * (`prebuilds/<platform>-<arch>/`), or returns the reason it cannot. The package's `index.js`
 * silently falls back to `elliptic` (slower than @noble/curves): `bindings.js` is required
 * directly so that a missing binary is reported, never swapped in quietly. No install script is
 * needed: node-gyp-build finds the prebuilt at run time.
 */
export function loadNativeSecp256k1(): { ok: true; lib: NativeSecp256k1 } | { ok: false; reason: string } {
  try {
    const require = createRequire(import.meta.url)
    const lib = require('secp256k1/bindings') as NativeSecp256k1
    // One known-answer check: a binary that loads but misbehaves must not decide what is authentic.
    const hash = new Uint8Array(32).fill(7)
    const secret = new Uint8Array(32).fill(1)
    const point = lib.publicKeyCreate(secret, false)
    const { signature } = lib.ecdsaSign(hash, secret)
    const forged = Uint8Array.from(hash)
    forged[0] = 8
    if (!lib.ecdsaVerify(signature, hash, point) || lib.ecdsaVerify(signature, forged, point)) {
      return { ok: false, reason: 'libsecp256k1 failed its self-check' }
    }
    return { ok: true, lib }
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  }
}

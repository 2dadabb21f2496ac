import { createHash } from 'node:crypto'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { loadNativeSecp256k1, type NativeSecp256k1 } from './secp256k1-native.ts'

// Stark Bank keys are secp256k1 in PEM: SEC1 "EC PRIVATE KEY" and SubjectPublicKeyInfo "PUBLIC KEY".
// Bun's WebCrypto and node:crypto have no secp256k1, so the DER is handled here.

const SECP256K1_OID = Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a])
const SPKI_PREFIX = Uint8Array.from([
  0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
  0x00, 0x0a, 0x03, 0x42, 0x00,
])

export class KeyFormatError extends Error {
  override name = 'KeyFormatError'
}

function pemBody(pem: string, label: string): Uint8Array {
  const match = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`))
  if (!match?.[1]) throw new KeyFormatError(`expected a PEM block "${label}"`)
  return Uint8Array.from(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'))
}

function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** The 32-byte secret from a SEC1 "EC PRIVATE KEY" PEM. */
export function privateKeyFromPem(pem: string): Uint8Array {
  return secretOf(pemBody(pem, 'EC PRIVATE KEY'))
}

const secretOf = (der: Uint8Array) => ecPrivateKey(der).secret

/**
 * The ECPrivateKey in `der` (SEC1 itself, or the one a PKCS#8 wraps): its secret, and the curve OID
 * (tag, length and value) of its optional [0] parameters.
 */
function ecPrivateKey(der: Uint8Array): { secret: Uint8Array; curve: Uint8Array | undefined } {
  // SEQUENCE { INTEGER 1, OCTET STRING (32) key, [0] OID, [1] BIT STRING }
  const at = der.findIndex((_, i) => der[i] === 0x02 && der[i + 1] === 0x01 && der[i + 2] === 0x01)
  if (at < 0 || der[at + 3] !== 0x04 || der[at + 4] !== 0x20) {
    throw new KeyFormatError('not a secp256k1 EC PRIVATE KEY')
  }
  const secret = der.slice(at + 5, at + 37)
  if (!secp256k1.utils.isValidSecretKey(secret)) throw new KeyFormatError('invalid secp256k1 private key')
  const params = der[at + 37] === 0xa0 ? der.slice(at + 39, at + 39 + (der[at + 38] ?? 0)) : undefined
  return { secret, curve: params }
}

const EC_PUBLIC_KEY_OID = Uint8Array.from([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01])
const RSA_OID = Uint8Array.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01])
const KEYS_CREATE =
  'create one with `bun run src/main.ts keys create` and register its public key with Stark Bank'

const holds = (der: Uint8Array, part: Uint8Array) =>
  der.some((_, i) => part.every((b, j) => der[i + j] === b))

/**
 * A Stark Bank private key as the SDK takes it (SEC1 "EC PRIVATE KEY" PEM): SEC1 as is, PKCS#8 (what
 * `openssl genpkey` writes) converted. Throws a `KeyFormatError` that says what the key is instead
 * (RSA, another curve, encrypted) when it is not a secp256k1 key.
 */
export function starkPrivateKeyPem(pem: string): string {
  if (pem.includes('BEGIN RSA PRIVATE KEY'))
    throw new KeyFormatError(`an RSA key, not secp256k1: ${KEYS_CREATE}`)
  if (pem.includes('BEGIN ENCRYPTED PRIVATE KEY'))
    throw new KeyFormatError('an encrypted key: decrypt it first (`openssl pkey -in key.pem -out plain.pem`)')
  if (pem.includes('BEGIN PRIVATE KEY')) {
    const der = pemBody(pem, 'PRIVATE KEY')
    if (holds(der, RSA_OID)) throw new KeyFormatError(`an RSA key, not secp256k1: ${KEYS_CREATE}`)
    if (!holds(der, EC_PUBLIC_KEY_OID)) throw new KeyFormatError(`not an EC key: ${KEYS_CREATE}`)
    if (!holds(der, SECP256K1_OID))
      throw new KeyFormatError(`an EC key on another curve, not secp256k1: ${KEYS_CREATE}`)
    return privateKeyToPem(secretOf(der))
  }
  const der = pemBody(pem, 'EC PRIVATE KEY')
  const { curve } = ecPrivateKey(der)
  const secp256k1Curve =
    curve?.length === SECP256K1_OID.length && SECP256K1_OID.every((b, i) => curve[i] === b)
  if (curve && !secp256k1Curve)
    throw new KeyFormatError(`an EC key on another curve, not secp256k1: ${KEYS_CREATE}`)
  return pem
}

/** The uncompressed point from a SubjectPublicKeyInfo "PUBLIC KEY" PEM. */
export function publicKeyFromPem(pem: string): Uint8Array {
  const der = pemBody(pem, 'PUBLIC KEY')
  const point = der.slice(der.length - 65)
  const prefixOk = SPKI_PREFIX.every((b, i) => der[i] === b) && der.length === SPKI_PREFIX.length + 65
  if (!prefixOk || point[0] !== 0x04) throw new KeyFormatError('not a secp256k1 PUBLIC KEY')
  secp256k1.Point.fromBytes(point) // throws when the point is not on the curve
  return point
}

export function publicKeyToPem(point: Uint8Array): string {
  const der = new Uint8Array(SPKI_PREFIX.length + point.length)
  der.set(SPKI_PREFIX)
  der.set(point, SPKI_PREFIX.length)
  return toPem(der, 'PUBLIC KEY')
}

export function privateKeyToPem(secret: Uint8Array): string {
  const point = secp256k1.getPublicKey(secret, false)
  const body = [
    0x02,
    0x01,
    0x01,
    0x04,
    0x20,
    ...secret,
    0xa0,
    0x07,
    ...SECP256K1_OID,
    0xa1,
    0x44,
    0x03,
    0x42,
    0x00,
    ...point,
  ]
  return toPem(Uint8Array.from([0x30, body.length, ...body]), 'EC PRIVATE KEY')
}

export function generateKeyPair(): { privatePem: string; publicPem: string } {
  const secret = secp256k1.utils.randomSecretKey()
  return {
    privatePem: privateKeyToPem(secret),
    publicPem: publicKeyToPem(secp256k1.getPublicKey(secret, false)),
  }
}

export function publicPemOf(privatePem: string): string {
  return publicKeyToPem(secp256k1.getPublicKey(privateKeyFromPem(privatePem), false))
}

/** Base64 DER ECDSA over SHA-256(message), as Stark Bank signs requests and webhooks (low-S). */
export function sign(message: string | Uint8Array, secret: Uint8Array): string {
  const bytes = typeof message === 'string' ? new TextEncoder().encode(message) : message
  return Buffer.from(ecdsaBackend().sign(bytes, secret)).toString('base64')
}

/**
 * Verifies a base64 DER signature. Stark Bank's real signatures can be high-S, so both halves are
 * accepted. Returns false (never throws) for anything that is not a valid signature.
 */
export function verify(message: string | Uint8Array, signatureB64: string, point: Uint8Array): boolean {
  const bytes = typeof message === 'string' ? new TextEncoder().encode(message) : message
  const der = Buffer.from(signatureB64, 'base64')
  // DER of two 256-bit integers is 8..72 bytes; anything else is not a signature (and not worth parsing).
  if (der.length < 8 || der.length > 72) return false
  return ecdsaBackend().verify(bytes, der, point)
}

/** secp256k1 ECDSA over SHA-256(message), DER signatures; verify accepts high-S and never throws. */
export interface EcdsaBackend {
  readonly name: 'libsecp256k1' | '@noble/curves'
  sign(message: Uint8Array, secret: Uint8Array): Uint8Array
  verify(message: Uint8Array, der: Uint8Array, point: Uint8Array): boolean
}

/** Pure JavaScript: about 0.8 ms a verification on a 2-core EPYC VM. */
export function nobleBackend(): EcdsaBackend {
  return {
    name: '@noble/curves',
    sign: (message, secret) => secp256k1.sign(message, secret, { format: 'der' }),
    verify(message, der, point) {
      try {
        return secp256k1.verify(der, message, point, { format: 'der', lowS: false })
      } catch {
        return false
      }
    },
  }
}

const sha256 = (message: Uint8Array) => createHash('sha256').update(message).digest()

/** libsecp256k1 through N-API: about 0.1 ms a verification on the same VM. */
export function nativeBackend(lib: NativeSecp256k1): EcdsaBackend {
  return {
    name: 'libsecp256k1',
    sign: (message, secret) => lib.signatureExport(lib.ecdsaSign(sha256(message), secret).signature),
    verify(message, der, point) {
      try {
        // libsecp256k1 verifies only low-S; (r, s) and (r, n − s) are the same signature, so
        // normalising first accepts Stark Bank's high-S signatures without weakening anything.
        const rs = lib.signatureNormalize(lib.signatureImport(der))
        return lib.ecdsaVerify(rs, sha256(message), point)
      } catch {
        return false
      }
    },
  }
}

let chosen: { backend: EcdsaBackend; fallbackReason?: string } | undefined

/**
 * The backend `sign`/`verify` use: libsecp256k1 when its prebuilt binary loads (and passes a
 * self-check), else @noble/curves. Chosen once per process, on first use; `fallbackReason` says
 * why the native one is not in use.
 */
export function ecdsaBackend(): EcdsaBackend {
  return chooseBackend().backend
}

/** Which backend is in use and, when it is the fallback, why; for the start-up log. */
export function ecdsaBackendInfo(): { name: EcdsaBackend['name']; fallbackReason?: string } {
  const { backend, fallbackReason } = chooseBackend()
  return fallbackReason === undefined ? { name: backend.name } : { name: backend.name, fallbackReason }
}

function chooseBackend(): { backend: EcdsaBackend; fallbackReason?: string } {
  if (!chosen) {
    const native = loadNativeSecp256k1()
    chosen = native.ok
      ? { backend: nativeBackend(native.lib) }
      : { backend: nobleBackend(), fallbackReason: native.reason }
  }
  return chosen
}

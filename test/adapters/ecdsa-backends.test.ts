import { describe, expect, it } from 'bun:test'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import {
  type EcdsaBackend,
  ecdsaBackendInfo,
  generateKeyPair,
  nativeBackend,
  nobleBackend,
  privateKeyFromPem,
  publicKeyFromPem,
} from '../../src/adapters/starkbank/ecdsa.ts'
import { loadNativeSecp256k1 } from '../../src/adapters/starkbank/secp256k1-native.ts'

const native = loadNativeSecp256k1()
const text = (s: string) => new TextEncoder().encode(s)

function highS(der: Uint8Array): Uint8Array {
  const sig = secp256k1.Signature.fromBytes(der, 'der')
  return new secp256k1.Signature(sig.r, secp256k1.Point.CURVE().n - sig.s).toBytes('der')
}

const backends: EcdsaBackend[] = [nobleBackend(), ...(native.ok ? [nativeBackend(native.lib)] : [])]

describe('secp256k1 backends', () => {
  it('uses libsecp256k1 where its prebuilt binary exists (linux-x64, darwin-arm64, win32-x64)', () => {
    const shipped = ['linux-x64', 'darwin-arm64', 'win32-x64'].includes(`${process.platform}-${process.arch}`)
    expect(ecdsaBackendInfo().name).toBe(shipped ? 'libsecp256k1' : '@noble/curves')
  })

  for (const backend of backends) {
    it(`${backend.name}: accepts low-S and high-S signatures over the exact bytes, and nothing else`, () => {
      const keys = generateKeyPair()
      const secret = privateKeyFromPem(keys.privatePem)
      const point = publicKeyFromPem(keys.publicPem)
      const low = backend.sign(text('{"event":{}}'), secret)
      const high = highS(low)
      expect(Buffer.from(high)).not.toEqual(Buffer.from(low))
      expect(backend.verify(text('{"event":{}}'), low, point)).toBe(true)
      expect(backend.verify(text('{"event":{}}'), high, point)).toBe(true)
      expect(backend.verify(text('{"event":{}} '), high, point)).toBe(false)
      const other = publicKeyFromPem(generateKeyPair().publicPem)
      expect(backend.verify(text('{"event":{}}'), high, other)).toBe(false)
    })

    it(`${backend.name}: answers false, never throws, for garbage`, () => {
      const point = publicKeyFromPem(generateKeyPair().publicPem)
      for (const junk of [
        new Uint8Array(0),
        new Uint8Array(8),
        new Uint8Array(72).fill(0x30),
        text('AAAA'),
      ]) {
        expect(backend.verify(text('body'), junk, point)).toBe(false)
      }
    })
  }

  it('signs the same bytes the same way on both backends (RFC 6979, low-S)', () => {
    if (!native.ok) return
    const secret = privateKeyFromPem(generateKeyPair().privatePem)
    const [noble, lib] = backends as [EcdsaBackend, EcdsaBackend]
    expect(Buffer.from(lib.sign(text('x'), secret))).toEqual(Buffer.from(noble.sign(text('x'), secret)))
  })
})

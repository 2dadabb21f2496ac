import { describe, expect, it } from 'bun:test'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { consoleLog } from '../../src/adapters/console-log.ts'
import {
  generateKeyPair,
  privateKeyFromPem,
  publicKeyFromPem,
  sign,
  verify,
} from '../../src/adapters/starkbank/ecdsa.ts'
import { starkSignatureVerifier } from '../../src/adapters/starkbank/webhook-signature.ts'

const quiet = consoleLog({ level: 'error', write: () => {} })
const body = (s: string) => new TextEncoder().encode(s)

/** The same signature with s replaced by n − s: valid ECDSA, but "high-S" (as Stark Bank's can be). */
function highS(signatureB64: string): string {
  const sig = secp256k1.Signature.fromBytes(Uint8Array.from(Buffer.from(signatureB64, 'base64')), 'der')
  const n = secp256k1.Point.CURVE().n
  const flipped = new secp256k1.Signature(sig.r, n - sig.s)
  return Buffer.from(flipped.toBytes('der')).toString('base64')
}

describe('Stark Bank signatures', () => {
  it('accepts a high-S signature, as Stark Bank sends them', () => {
    const keys = generateKeyPair()
    const low = sign('{"event":{}}', privateKeyFromPem(keys.privatePem))
    const high = highS(low)
    expect(high).not.toBe(low)
    expect(verify('{"event":{}}', high, publicKeyFromPem(keys.publicPem))).toBe(true)
    expect(verify('{"event":{}} ', high, publicKeyFromPem(keys.publicPem))).toBe(false)
  })

  it('answers false, never throws, for garbage signatures', () => {
    const point = publicKeyFromPem(generateKeyPair().publicPem)
    for (const junk of ['', '!!!', 'AAAA', Buffer.from('x'.repeat(200)).toString('base64')]) {
      expect(verify('body', junk, point)).toBe(false)
    }
  })
})

describe('public key cache', () => {
  it('fetches the key once, and refetches after a rotation at most once a minute', async () => {
    let current = generateKeyPair()
    let fetches = 0
    let now = 1_000_000
    const verifier = starkSignatureVerifier({
      fetchPublicKey: async () => {
        fetches++
        return current.publicPem
      },
      clock: () => now,
      log: quiet,
    })
    const signed = (s: string) => sign(s, privateKeyFromPem(current.privatePem))
    expect(await verifier.verify(body('a'), signed('a'))).toBe(true)
    expect(await verifier.verify(body('b'), signed('b'))).toBe(true)
    expect(fetches).toBe(1)

    // Forged requests inside the minute do not reach Stark Bank.
    const forger = generateKeyPair()
    for (let i = 0; i < 50; i++) {
      expect(await verifier.verify(body('x'), sign('x', privateKeyFromPem(forger.privatePem)))).toBe(false)
    }
    expect(fetches).toBe(1)

    // Stark rotates its key: the first failure after a minute refetches and then verifies.
    current = generateKeyPair()
    now += 61_000
    expect(await verifier.verify(body('c'), signed('c'))).toBe(true)
    expect(fetches).toBe(2)
    expect(await verifier.verify(body('x'), sign('x', privateKeyFromPem(forger.privatePem)))).toBe(false)
    expect(fetches).toBe(2)
  })

  it('shares one fetch between concurrent first requests', async () => {
    const keys = generateKeyPair()
    let fetches = 0
    const verifier = starkSignatureVerifier({
      fetchPublicKey: async () => {
        fetches++
        await Bun.sleep(20)
        return keys.publicPem
      },
      clock: Date.now,
      log: quiet,
    })
    const sig = sign('z', privateKeyFromPem(keys.privatePem))
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(body('z'), sig)))
    expect(results.every(Boolean)).toBe(true)
    expect(fetches).toBe(1)
  })
})

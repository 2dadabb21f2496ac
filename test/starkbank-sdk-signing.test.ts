import { afterAll, describe, expect, it } from 'bun:test'
import { createRequire } from 'node:module'
import { starkBank } from '../src/adapters/starkbank/bank.ts'
import { generateKeyPair, nobleBackend, privateKeyFromPem } from '../src/adapters/starkbank/ecdsa.ts'
import { type SdkSign, sdkRequestSignature } from '../src/adapters/starkbank/sdk-signing.ts'

// The SDK's requests are signed by paybridge's ECDSA backend instead of starkbank-ecdsa's pure
// JavaScript: each signature must be one the SDK's own ECDSA library (what Stark Bank publishes)
// accepts for the project's public key, and, like the SDK's, low-S.

const require = createRequire(import.meta.url)
interface SdkKey {
  secret: { toString(radix: number): string }
  publicKey(): unknown
}
const ecdsa = createRequire(require.resolve('starkcore'))('starkbank-ecdsa') as {
  Ecdsa: { sign: SdkSign; verify(message: string, signature: unknown, publicKey: unknown): boolean }
  PrivateKey: { fromPem(pem: string): SdkKey }
  Signature: { fromBase64(b64: string): { s: { toString(radix: number): string } } }
}
// secp256k1's group order over 2: a low-S signature has s at most this.
const HALF_N = BigInt('0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0')

/** Whether starkbank-ecdsa accepts `b64` as the key's signature of `message`, and its S is low. */
function sdkAccepts(message: string, b64: string, key: SdkKey): boolean {
  const signature = ecdsa.Signature.fromBase64(b64)
  const s = BigInt(`0x${signature.s.toString(16)}`)
  return ecdsa.Ecdsa.verify(message, signature, key.publicKey()) && s <= HALF_N
}

const PROJECT_ID = '5656565656565656'
const messages = [
  `project/${PROJECT_ID}:1764590000:`,
  `project/${PROJECT_ID}:1764590001:{"transfers":[{"amount":1000,"name":"Ação São João ✓","externalId":"paybridge-invoice-1"}]}`,
  `project/${PROJECT_ID}:1764590002:${'x'.repeat(70_000)}`,
]

describe('signing the SDK requests', () => {
  it("gives a low-S signature the SDK's own ECDSA library accepts, for every key and message", () => {
    for (let i = 0; i < 6; i++) {
      const { privatePem } = generateKeyPair()
      const key = ecdsa.PrivateKey.fromPem(privatePem)
      for (const message of messages) {
        expect(sdkAccepts(message, sdkRequestSignature(message, key), key)).toBe(true)
        // The fallback backend's signatures are accepted too.
        const noble = nobleBackend().sign(new TextEncoder().encode(message), privateKeyFromPem(privatePem))
        expect(sdkAccepts(message, Buffer.from(noble).toString('base64'), key)).toBe(true)
        // The check can fail: the SDK refuses the signature of another message.
        expect(sdkAccepts(`${message}.`, sdkRequestSignature(message, key), key)).toBe(false)
      }
    }
  })

  describe('over HTTP', () => {
    const seen: Headers[] = []
    const bodies: string[] = []
    const server = Bun.serve({
      port: 0,
      async fetch(req) {
        seen.push(req.headers)
        bodies.push(await req.text())
        return Response.json({ transfers: [] })
      },
    })
    afterAll(() => server.stop(true))

    it('sends a signature over Access-Id, Access-Time and the body that the SDK accepts', async () => {
      const { privatePem } = generateKeyPair()
      const bank = starkBank({
        projectId: PROJECT_ID,
        privateKeyPem: privatePem,
        environment: 'sandbox',
        apiUrl: `http://127.0.0.1:${server.port}`,
        timeoutMs: 2_000,
      })
      await bank.createTransfers([
        {
          amount: 1000,
          name: 'Ação São João',
          taxId: '20.018.183/0001-80',
          bankCode: '20018183',
          branchCode: '0001',
          accountNumber: '6341320293482496',
          accountType: 'payment',
          externalId: 'paybridge-invoice-1',
          tags: ['paybridge-transfer'],
        },
      ])
      const headers = seen.at(-1) as Headers
      const body = bodies.at(-1) as string
      expect(body).toContain('Ação São João')
      const message = `${headers.get('access-id')}:${headers.get('access-time')}:${body}`
      expect(headers.get('access-id')).toBe(`project/${PROJECT_ID}`)
      const signature = headers.get('access-signature') as string
      expect(sdkAccepts(message, signature, ecdsa.PrivateKey.fromPem(privatePem))).toBe(true)
      // Signed by paybridge's backend (starkbank-ecdsa's own nonce would give other bytes).
      expect(signature).toBe(sdkRequestSignature(message, ecdsa.PrivateKey.fromPem(privatePem)))
    })
  })
})

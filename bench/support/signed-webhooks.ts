import { privateKeyFromPem, sign } from '../../src/adapters/starkbank/ecdsa.ts'

export interface SignedWebhook {
  body: string
  signature: string
}

/**
 * `count` distinct `invoice`/`credited` Stark Bank webhooks signed with `signingPem`, as the emulator
 * sends them: every one is a new event for a new invoice, so nothing is deduplicated away.
 */
export function signedCredits(count: number, signingPem: string, prefix: string): SignedWebhook[] {
  const secret = privateKeyFromPem(signingPem)
  const created = new Date().toISOString()
  return Array.from({ length: count }, (_, i) => {
    const body = JSON.stringify({
      event: {
        id: `${prefix}-${i}`,
        subscription: 'invoice',
        created,
        workspaceId: '5078376503050240',
        log: {
          id: `${prefix}-log-${i}`,
          type: 'credited',
          created,
          errors: [],
          invoice: {
            id: `${prefix}-inv-${i}`,
            amount: 10_000 + (i % 90_000),
            fee: 50,
            status: 'paid',
            name: 'Iron Bank S.A.',
            taxId: '20.018.183/0001-80',
            due: created,
            tags: [],
          },
        },
      },
    })
    return { body, signature: sign(body, secret) }
  })
}

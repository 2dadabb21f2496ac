import { privateKeyFromPem, sign } from '../../src/adapters/starkbank/ecdsa.ts'
import { invoiceTag } from '../../src/domain/invoice-batch.ts'

export interface SignedWebhook {
  body: string
  signature: string
}

/**
 * `count` distinct `invoice`/`credited` Stark Bank webhooks signed with `signingPem`, as the emulator
 * sends them: every one is a new event for a new invoice, so nothing is deduplicated away. Ids are
 * digit strings as Stark Bank's are, distinct per `prefix`; each invoice carries paybridge's invoice
 * tag, so the default PAYOUT_SCOPE=issued pays it out. `logType: 'created'` gives the invoice's
 * `created` log instead: an event paybridge queues and records but pays nothing for.
 */
export function signedCredits(
  count: number,
  signingPem: string,
  prefix: string,
  logType: 'credited' | 'created' = 'credited',
): SignedWebhook[] {
  const secret = privateKeyFromPem(signingPem)
  const created = new Date().toISOString()
  // The prefix picks a distinct block of ids (same prefix, same ids: deduplicated like a redelivery).
  const block = [...prefix].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 100_000, 7)
  const digits = (kind: number, i: number) =>
    `${kind}${String(block).padStart(5, '0')}${String(i).padStart(9, '0')}`
  return Array.from({ length: count }, (_, i) => {
    const body = JSON.stringify({
      event: {
        id: digits(1, i),
        subscription: 'invoice',
        created,
        workspaceId: '5078376503050240',
        log: {
          id: digits(2, i),
          type: logType,
          created,
          errors: [],
          invoice: {
            id: digits(3, i),
            amount: 10_000 + (i % 90_000),
            fee: 50,
            status: logType === 'credited' ? 'paid' : 'created',
            name: 'Iron Bank S.A.',
            taxId: '20.018.183/0001-80',
            due: created,
            tags: [invoiceTag(`${prefix}-${i}`)],
          },
        },
      },
    })
    return { body, signature: sign(body, secret) }
  })
}

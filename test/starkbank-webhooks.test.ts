import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import starkbank from 'starkbank'
import { starkBank } from '../src/adapters/starkbank/bank.ts'
import { generateKeyPair, publicKeyFromPem, verify } from '../src/adapters/starkbank/ecdsa.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { BankError } from '../src/ports/bank.ts'

// The Bank port's webhook, balance and clock calls: the real starkbank SDK over HTTP to the emulator.

const PROJECT_ID = '5656565656565656'
const keys = generateKeyPair()
const AHEAD_MS = 120_000

let emulator: StarkBankEmulator
beforeAll(async () => {
  emulator = await startStarkBankEmulator({
    port: 0,
    projects: { [PROJECT_ID]: keys.publicPem },
    payShare: 0,
    openingBalance: 500_000,
    feeCents: 50,
    // Two minutes ahead: inside Stark Bank's Access-Time tolerance, far enough to be measured.
    now: () => Date.now() + AHEAD_MS,
  })
})
afterAll(() => emulator.stop())

const bank = () =>
  starkBank({
    projectId: PROJECT_ID,
    privateKeyPem: keys.privatePem,
    environment: 'sandbox',
    apiUrl: emulator.url,
    timeoutMs: 2000,
  })

const sdkUser = () =>
  new starkbank.Project({ id: PROJECT_ID, privateKey: keys.privatePem, environment: 'sandbox' })

describe('Stark Bank webhooks, balance and clock through the SDK', () => {
  it('creates, lists and deletes webhook subscriptions', async () => {
    const created = await bank().registerWebhook('https://paybridge.example.com/webhook/starkbank', [
      'invoice',
      'transfer',
    ])
    expect(created).toEqual({
      id: expect.stringMatching(/^\d+$/),
      url: 'https://paybridge.example.com/webhook/starkbank',
      subscriptions: ['invoice', 'transfer'],
    })
    const other = await bank().registerWebhook('https://other.example.com/hook', ['deposit'])
    expect((await bank().webhooks()).map((w) => w.id).sort()).toEqual([created.id, other.id].sort())

    const one = await starkbank.webhook.get(created.id, { user: sdkUser() })
    expect({ id: one.id, url: one.url, subscriptions: one.subscriptions }).toEqual(created)

    await bank().removeWebhook(other.id)
    expect(await bank().webhooks()).toEqual([created])
    await bank().removeWebhook(created.id)
    expect(await bank().webhooks()).toEqual([])
    const gone = await bank()
      .removeWebhook(created.id)
      .catch((e: unknown) => e)
    expect(gone).toBeInstanceOf(BankError)
    expect((gone as BankError).details.map((d) => d.code)).toEqual(['notFound'])
  })

  it("refuses a subscription to an unknown service with Stark Bank's error list", async () => {
    const refused = await bank()
      .registerWebhook('https://paybridge.example.com/webhook/starkbank', ['invoices'])
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(BankError)
    expect((refused as BankError).kind).toBe('rejected')
    expect((refused as BankError).details.map((d) => d.code)).toEqual(['invalidSubscriptions'])
  })

  it('reads the balance: the opening amount plus paid invoices less transfers and fees', async () => {
    expect(await bank().balance()).toEqual({ amount: 500_000, currency: 'BRL' })
    const [invoice] = await bank().createInvoices([
      { amount: 10_000, name: 'Ana', taxId: '012.345.678-90', tags: ['doctor'] },
    ])
    emulator.payInvoice(invoice!.id)
    expect((await bank().balance()).amount).toBe(500_000 + 10_000 - 50)
    await bank().createTransfers([
      {
        amount: 9_950,
        name: 'Stark Bank S.A.',
        taxId: '20.018.183/0001-80',
        bankCode: '20018183',
        branchCode: '0001',
        accountNumber: '6341320293482496',
        accountType: 'payment',
        externalId: 'doctor-balance-1',
        tags: ['doctor'],
      },
    ])
    expect((await bank().balance()).amount).toBe(500_000 + 10_000 - 50 - 9_950 - 50)
  })

  it('delivers each event to the webhooks subscribed to its service, signed, and to no other', async () => {
    const received: { path: string; body: string; signature: string | null }[] = []
    const receiver = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: async (request) => {
        received.push({
          path: new URL(request.url).pathname,
          body: await request.text(),
          signature: request.headers.get('digital-signature'),
        })
        return new Response('ok')
      },
    })
    try {
      const base = `http://127.0.0.1:${receiver.port}`
      const invoices = await bank().registerWebhook(`${base}/invoices`, ['invoice'])
      const transfers = await bank().registerWebhook(`${base}/transfers`, ['transfer'])
      const [invoice] = await bank().createInvoices([
        { amount: 5_000, name: 'Bia', taxId: '012.345.678-90', tags: ['doctor-delivery'] },
      ])
      const event = emulator.payInvoice(invoice!.id)
      const deadline = Date.now() + 3000
      while (received.length === 0 && Date.now() < deadline) await Bun.sleep(10)
      await Bun.sleep(100)
      expect(received.map((r) => r.path)).toEqual(['/invoices'])
      const body = JSON.parse(received[0]?.body ?? '{}') as { event: { id: string; subscription: string } }
      expect(body.event).toMatchObject({ id: event!.id, subscription: 'invoice' })
      expect(
        verify(received[0]!.body, received[0]!.signature ?? '', publicKeyFromPem(emulator.publicKeyPem)),
      ).toBe(true)
      expect(emulator.events().find((e) => e.id === event!.id)?.attempts).toEqual([
        expect.objectContaining({ url: `${base}/invoices`, status: 200 }),
      ])
      await bank().removeWebhook(invoices.id)
      await bank().removeWebhook(transfers.id)
    } finally {
      await receiver.stop(true)
    }
  })

  it("reads Stark Bank's clock from its answer's Date", async () => {
    const time = await bank().serverTime()
    // Date has whole seconds: the skew is known to within a second plus the round trip.
    expect(Math.abs(time.at - time.localAt - AHEAD_MS)).toBeLessThan(1000 + time.roundTripMs + 500)
  })
})

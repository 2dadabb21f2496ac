import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'bun:test'
import { starkBank } from '../src/adapters/starkbank/bank.ts'
import { generateKeyPair, publicKeyFromPem, verify } from '../src/adapters/starkbank/ecdsa.ts'
import { bankFault } from '../src/app/bank-faults.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { BankError, type NewTransfer } from '../src/ports/bank.ts'

const PROJECT_ID = '5656565656565656'
const TIMEOUT_MS = 800
const keys = generateKeyPair()

interface Delivery {
  body: string
  signature: string
}

let emulator: StarkBankEmulator
let receiver: ReturnType<typeof Bun.serve>
const deliveries: Delivery[] = []
/** Statuses the webhook receiver answers with, in order; 200 once empty. */
let receiverPlan: number[] = []
/** What the emulator's `random()` returns: below payShare (0.5) pays the invoice automatically. */
let nextRandom = 0.99

const bank = () =>
  starkBank({
    projectId: PROJECT_ID,
    privateKeyPem: keys.privatePem,
    environment: 'sandbox',
    apiUrl: emulator.url,
    timeoutMs: TIMEOUT_MS,
  })

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    await Bun.sleep(10)
  }
  throw new Error('condition not met in time')
}

async function bankError(promise: Promise<unknown>): Promise<BankError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof BankError)) throw new Error(`expected a BankError, got ${String(error)}`)
  return error
}

let seq = 0
function transfer(overrides: Partial<NewTransfer> = {}): NewTransfer {
  seq += 1
  return {
    amount: 1000 + seq,
    name: 'Stark Bank S.A.',
    taxId: '20.018.183/0001-80',
    bankCode: '20018183',
    branchCode: '0001',
    accountNumber: '6341320293482496',
    accountType: 'payment',
    externalId: `test-${Date.now()}-${seq}`,
    tags: [`test/transfer-${seq}`],
    ...overrides,
  }
}

beforeAll(async () => {
  receiver = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      deliveries.push({
        body: await request.text(),
        signature: request.headers.get('digital-signature') ?? '',
      })
      return new Response(null, { status: receiverPlan.shift() ?? 200 })
    },
  })
  emulator = await startStarkBankEmulator({
    port: 0,
    projects: { [PROJECT_ID]: keys.publicPem },
    webhookUrl: `http://127.0.0.1:${receiver.port}/webhook`,
    payShare: 0.5,
    payDelayMs: 50,
    webhookRetryDelaysMs: [100, 100, 100],
    random: () => nextRandom,
  })
})

afterAll(async () => {
  await emulator.stop()
  await receiver.stop(true)
})

beforeEach(() => {
  nextRandom = 0.99
  receiverPlan = []
})

describe('invoices through the starkbank SDK', () => {
  it('creates invoices and finds them by their lower-cased tags', async () => {
    const created = await bank().createInvoices([
      { amount: 2500, name: 'Tony Stark', taxId: '012.345.678-90', tags: ['Order/A-1', 'Run/One'] },
      { amount: 3100, name: 'Tony Stark', taxId: '012.345.678-90', tags: ['Order/A-2', 'Run/One'] },
    ])
    expect(created.map((i) => i.tags)).toEqual([
      ['order/a-1', 'run/one'],
      ['order/a-2', 'run/one'],
    ])
    expect(created.every((i) => i.status === 'created' && /^\d{16}$/.test(i.id))).toBe(true)

    const one = await bank().findInvoices(['ORDER/A-1', 'run/one'])
    expect(one.map((i) => [i.id, i.amount])).toEqual([[created[0]?.id ?? '', 2500]])
    expect((await bank().findInvoices(['run/one'])).length).toBe(2)
  })

  it('follows cursors past one page of 100', async () => {
    const batch = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        amount: 100 + i,
        name: 'Pepper Potts',
        taxId: '012.345.678-90',
        tags: ['paged'],
      }))
    await bank().createInvoices(batch(100))
    await bank().createInvoices(batch(30))
    const found = await bank().findInvoices(['paged'])
    expect(found.length).toBe(130)
    expect(new Set(found.map((i) => i.id)).size).toBe(130)
  })

  it('pays an invoice and posts a credited event signed with the key from GET /v2/public-key', async () => {
    const [invoice] = await bank().createInvoices([
      { amount: 4200, name: 'Tony Stark', taxId: '012.345.678-90', tags: ['webhook/signed'] },
    ])
    const before = deliveries.length
    emulator.payInvoice(invoice?.id ?? '')
    const delivery = await until(() =>
      deliveries.slice(before).find((d) => d.body.includes(invoice?.id ?? '-')),
    )

    const point = publicKeyFromPem(await bank().publicKey())
    expect(verify(delivery.body, delivery.signature, point)).toBe(true)
    expect(verify(`${delivery.body} `, delivery.signature, point)).toBe(false)
    const { event } = JSON.parse(delivery.body)
    expect(event.subscription).toBe('invoice')
    expect(event.log.type).toBe('credited')
    expect(event.log.invoice).toMatchObject({ id: invoice?.id, status: 'paid', amount: 4200, fee: 50 })
    expect(event.isDelivered).toBeUndefined()

    const [paid] = await bank().findInvoices(['webhook/signed'])
    expect(paid).toMatchObject({ status: 'paid', fee: 50 })
    await until(() => emulator.events().find((e) => e.id === event.id)?.isDelivered)
  })

  it('pays the invoices its random draw picks, after payDelayMs', async () => {
    nextRandom = 0
    await bank().createInvoices([
      { amount: 900, name: 'Happy Hogan', taxId: '012.345.678-90', tags: ['auto-paid'] },
    ])
    nextRandom = 0.99
    await bank().createInvoices([
      { amount: 901, name: 'Happy Hogan', taxId: '012.345.678-90', tags: ['auto-paid'] },
    ])
    await Bun.sleep(150)
    const found = await bank().findInvoices(['auto-paid'])
    expect(found.map((i) => [i.amount, i.status]).sort()).toEqual([
      [900, 'paid'],
      [901, 'created'],
    ])
  })

  it('retries a webhook the receiver answered with 500 and then marks the event delivered', async () => {
    const [invoice] = await bank().createInvoices([
      { amount: 777, name: 'Tony Stark', taxId: '012.345.678-90', tags: ['webhook/retried'] },
    ])
    receiverPlan = [500]
    const event = emulator.payInvoice(invoice?.id ?? '')
    const record = await until(() => emulator.events().find((e) => e.id === event?.id && e.isDelivered))
    expect(record.attempts.map((a) => a.status)).toEqual([500, 200])
    expect(deliveries.filter((d) => d.body.includes(event?.id ?? '-')).length).toBe(2)
  })
})

describe('transfers through the starkbank SDK', () => {
  it('refuses a second transfer with the same externalId and keeps only the first', async () => {
    const first = transfer({ tags: ['dup'] })
    const [created] = await bank().createTransfers([first])
    expect(created).toMatchObject({ externalId: first.externalId, status: 'created', tags: ['dup'] })

    const error = await bankError(bank().createTransfers([{ ...first, amount: 5 }]))
    expect(error.kind).toBe('rejected')
    expect(error.status).toBe(400)
    expect(error.details.map((d) => d.code)).toEqual(['invalidExternalId'])
    expect(error.details[0]?.message).toContain('already exists')
    // The relay reads this exact refusal as proof the transfer exists (never dead).
    expect(bankFault(error)).toBe('duplicate')
    expect((await bank().findTransfers(['dup'])).map((t) => t.id)).toEqual([created?.id ?? ''])
  })

  it('refuses batches over 100 and creates none of them', async () => {
    const before = emulator.transfers().length
    const error = await bankError(bank().createTransfers(Array.from({ length: 101 }, () => transfer())))
    expect([error.kind, error.status, error.details[0]?.code]).toEqual(['rejected', 400, 'tooManyTransfers'])
    expect(emulator.transfers().length).toBe(before)

    const invoices = Array.from({ length: 101 }, () => ({
      amount: 1,
      name: 'x',
      taxId: '012.345.678-90',
      tags: [],
    }))
    const invoiceError = await bankError(bank().createInvoices(invoices))
    expect(invoiceError.details[0]?.code).toBe('tooManyInvoices')
  })

  it('refuses a batch with an invalid element, with one detail per problem', async () => {
    const before = emulator.transfers().length
    const error = await bankError(
      bank().createTransfers([transfer(), transfer({ taxId: '111.111.111-11', bankCode: '12' })]),
    )
    expect(error.kind).toBe('rejected')
    expect(error.details.map((d) => d.code)).toEqual(['invalidTaxId', 'invalidBankCode'])
    expect(error.details[0]?.message).toStartWith('Element 1')
    expect(emulator.transfers().length).toBe(before)
  })
})

describe('request signatures', () => {
  it('refuses requests signed with another key, or from an unknown project', async () => {
    const stranger = generateKeyPair()
    const before = emulator.invoices().length
    const forged = starkBank({
      projectId: PROJECT_ID,
      privateKeyPem: stranger.privatePem,
      environment: 'sandbox',
      apiUrl: emulator.url,
      timeoutMs: TIMEOUT_MS,
    })
    const error = await bankError(
      forged.createInvoices([{ amount: 100, name: 'Loki', taxId: '012.345.678-90', tags: ['forged'] }]),
    )
    expect([error.kind, error.status, error.details[0]?.code]).toEqual([
      'rejected',
      401,
      'invalidCredentials',
    ])

    const unknown = starkBank({
      projectId: '1111111111111111',
      privateKeyPem: stranger.privatePem,
      environment: 'sandbox',
      apiUrl: emulator.url,
      timeoutMs: TIMEOUT_MS,
    })
    const unknownError = await bankError(unknown.findInvoices(['forged']))
    expect([unknownError.status, unknownError.details[0]?.code]).toEqual([401, 'invalidAccessId'])
    // The relay reads both as paybridge's access refused (circuit), not as a bad transfer.
    expect([bankFault(error), bankFault(unknownError)]).toEqual(['relay-wide', 'relay-wide'])
    expect(emulator.invoices().length).toBe(before)
  })
})

describe('injected faults', () => {
  it('reports a 500 as transient and creates nothing', async () => {
    const before = emulator.counts['POST /v2/transfer']
    emulator.fail('POST /v2/transfer', { status: 500 })
    const t = transfer()
    const error = await bankError(bank().createTransfers([t]))
    expect([error.kind, error.status]).toEqual(['transient', 500])
    expect(emulator.counts['POST /v2/transfer']).toBe(before + 1)
    expect(await bank().findTransfers(t.tags)).toEqual([])
  })

  it('reports a 429 as transient with the Retry-After it was given', async () => {
    emulator.fail('GET /v2/transfer', { status: 429, retryAfterSeconds: 7 })
    const error = await bankError(bank().findTransfers(['anything']))
    expect([error.kind, error.status, error.retryAfterMs]).toEqual(['transient', 429, 7000])
  })

  it('reports a request hanging past timeoutMs as transient, though the slow bank still did the work', async () => {
    emulator.fail('POST /v2/invoice', { delayMs: TIMEOUT_MS + 400 })
    const started = Date.now()
    const error = await bankError(
      bank().createInvoices([{ amount: 1234, name: 'Tony Stark', taxId: '012.345.678-90', tags: ['slow'] }]),
    )
    expect(error.kind).toBe('transient')
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 300)
    const late = await until(async () => {
      const found = await bank().findInvoices(['slow'])
      return found.length > 0 ? found : undefined
    })
    expect(late.map((i) => i.amount)).toEqual([1234])
  })

  it('loses the response after processing: the transfer exists and a retry is refused as a duplicate', async () => {
    emulator.fail('POST /v2/transfer', { afterProcessing: true, status: 502 })
    const t = transfer()
    const error = await bankError(bank().createTransfers([t]))
    expect([error.kind, error.status]).toEqual(['transient', 502])

    const found = await bank().findTransfers(t.tags)
    expect(found.map((f) => [f.externalId, f.amount])).toEqual([[t.externalId, t.amount]])
    const retry = await bankError(bank().createTransfers([t]))
    expect(retry.details.map((d) => d.code)).toEqual(['invalidExternalId'])
  })

  it('awaits onRequest before processing, so a test can act mid-request', async () => {
    const seen: string[] = []
    emulator.onRequest = async (route, body) => {
      seen.push(`${route} ${JSON.parse(body).transfers.length}`)
    }
    try {
      await bank().createTransfers([transfer(), transfer()])
    } finally {
      emulator.onRequest = undefined
    }
    expect(seen).toEqual(['POST /v2/transfer 2'])
  })
})

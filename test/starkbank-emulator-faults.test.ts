import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { starkBank } from '../src/adapters/starkbank/bank.ts'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { bankFault } from '../src/app/bank-faults.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { BankError, type NewTransfer } from '../src/ports/bank.ts'

// The emulator's faults the chaos kit injects: a lost answer with list lag, an auth outage, transfer
// events (out of order, duplicated), late and second credits. Through the real SDK over HTTP.

const PROJECT_ID = '5757575757575757'
const keys = generateKeyPair()
let emulator: StarkBankEmulator
let receiver: ReturnType<typeof Bun.serve>
const received: { subscription: string; type: string; id: string; status?: string; amount?: number }[] = []

const bank = () =>
  starkBank({
    projectId: PROJECT_ID,
    privateKeyPem: keys.privatePem,
    environment: 'sandbox',
    apiUrl: emulator.url,
    timeoutMs: 2_000,
  })

async function until<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = probe()
    if (value !== undefined) return value
    await Bun.sleep(20)
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
function transfer(): NewTransfer {
  seq += 1
  return {
    amount: 5_000 + seq,
    name: 'Stark Bank S.A.',
    taxId: '20.018.183/0001-80',
    bankCode: '20018183',
    branchCode: '0001',
    accountNumber: '6341320293482496',
    accountType: 'payment',
    externalId: `faults-${Date.now()}-${seq}`,
    tags: [`faults/transfer-${seq}`],
  }
}

beforeAll(async () => {
  receiver = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const { event } = JSON.parse(await request.text())
      const subject = event.log.transfer ?? event.log.invoice
      received.push({
        subscription: event.subscription,
        type: event.log.type,
        id: subject.id,
        status: event.log.transfer?.status,
        amount: subject.amount,
      })
      return new Response(null, { status: 200 })
    },
  })
  emulator = await startStarkBankEmulator({
    port: 0,
    projects: { [PROJECT_ID]: keys.publicPem },
    webhookUrl: `http://127.0.0.1:${receiver.port}/webhook`,
    payShare: 0,
    fee: () => 100,
    webhookRetryDelaysMs: [100],
    transferEvents: { processingAfterMs: 50, settledAfterMs: 150, reorderMs: 400, duplicateShare: 0.5 },
  })
})

afterAll(async () => {
  await emulator.stop()
  await receiver.stop(true)
})

describe('emulated Stark Bank faults', () => {
  it('creates the transfer, loses the answer and hides it from list queries for hideFromListsMs', async () => {
    emulator.fail('POST /v2/transfer', { afterProcessing: true, status: 500, hideFromListsMs: 600 })
    const t = transfer()
    expect((await bankError(bank().createTransfers([t]))).status).toBe(500)
    expect(emulator.transfers().filter((x) => x.externalId === t.externalId)).toHaveLength(1)
    expect(await bank().findTransfers(t.tags)).toEqual([])
    const retry = await bankError(bank().createTransfers([t]))
    expect([retry.status, retry.details.map((d) => d.code)]).toEqual([400, ['invalidExternalId']])
    expect(bankFault(retry)).toBe('duplicate')
    await Bun.sleep(700)
    expect((await bank().findTransfers(t.tags)).map((x) => x.externalId)).toEqual([t.externalId])
  })

  it('refuses every request with 401 and the chosen Stark code during an auth outage, then accepts again', async () => {
    for (const code of ['invalidCredentials', 'invalidAccessTime'] as const) {
      emulator.authOutage(300, code)
      const error = await bankError(bank().createTransfers([transfer()]))
      expect([error.kind, error.status, error.details.map((d) => d.code)]).toEqual(['rejected', 401, [code]])
      expect(bankFault(error)).toBe('relay-wide')
      await Bun.sleep(350)
      expect(await bank().findTransfers(['nothing-here'])).toEqual([])
    }
  })

  it('sends signed transfer events created → processing → success for each created transfer, some twice, out of order', async () => {
    const created = await bank().createTransfers([transfer(), transfer(), transfer(), transfer()])
    const ids = created.map((t) => t.id)
    await until(() =>
      ids.every((id) => received.some((r) => r.id === id && r.status === 'success')) ? true : undefined,
    )
    await Bun.sleep(500)
    for (const id of ids) {
      const statuses = received.filter((r) => r.id === id).map((r) => r.status)
      expect(new Set(statuses)).toEqual(new Set(['created', 'processing', 'success']))
    }
    expect(
      emulator
        .transfers()
        .filter((t) => ids.includes(t.id))
        .map((t) => t.status),
    ).toEqual(ids.map(() => 'success'))
    const events = emulator.events().filter((e) => e.subscription === 'transfer')
    expect(events.length).toBeGreaterThanOrEqual(ids.length * 3)
  })

  it('credits a late payment with fine and interest, and a second credit later with a larger amount', async () => {
    const [invoice] = await bank().createInvoices([
      { amount: 10_000, name: 'Late Payer', taxId: '012.345.678-90', tags: ['late'] },
    ])
    const id = invoice?.id ?? ''
    const first = emulator.payInvoice(id, { fineAmount: 200, interestAmount: 33 })
    expect(first?.log).toMatchObject({ type: 'credited', invoice: { amount: 10_233, nominalAmount: 10_000 } })
    const second = emulator.creditAgain(id, 500)
    expect(second?.log).toMatchObject({ type: 'credited', invoice: { amount: 10_733, fee: 100 } })
    await until(() => (received.filter((r) => r.id === id).length === 2 ? true : undefined))
    expect(received.filter((r) => r.id === id).map((r) => r.amount)).toEqual([10_233, 10_733])
  })
})

import { describe, expect, it } from 'bun:test'
import { type DoctorDeps, doctorChecks, runDoctor } from '../../src/app/doctor.ts'
import { type Bank, BankError, type BankWebhook } from '../../src/ports/bank.ts'
import type { LedgerProbe, QueueProbe, QueueSettings } from '../../src/ports/doctor-probes.ts'

// The checks as decisions over fake ports: given what each part answers, what doctor says.

const NOW = 1_796_000_000_000
const PUBLIC_URL = 'https://paybridge.example.com'

function fakeBank(over: Partial<Bank> = {}): Bank {
  const webhooks: BankWebhook[] = [
    { id: '1', url: `${PUBLIC_URL}/webhook/starkbank`, subscriptions: ['invoice', 'transfer'] },
  ]
  const unused = () => Promise.reject(new Error('not in this test'))
  return {
    createInvoices: unused,
    findInvoices: unused,
    createTransfers: unused,
    findTransfers: unused,
    undeliveredEvents: unused,
    markEventDelivered: unused,
    registerWebhook: unused,
    removeWebhook: unused,
    publicKey: async () => '-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----\n',
    webhooks: async () => webhooks,
    balance: async () => ({ amount: 100_000, currency: 'BRL' }),
    serverTime: async () => ({ at: NOW, localAt: NOW + 200, roundTripMs: 20 }),
    ...over,
  }
}

function fakeLedger(over: Partial<LedgerProbe> = {}): LedgerProbe {
  return {
    engine: 'sqlite',
    writable: async () => true,
    migrations: async () => ({ known: 10, latestKnown: 1000, applied: 10, latestApplied: 1000 }),
    transfersToSend: async () => ({ pending: { count: 0, cents: 0 }, held: { count: 0, cents: 0 } }),
    ...over,
  }
}

const queue = (settings: QueueSettings | 'missing', createdAtStart = false): QueueProbe => ({
  label: 'events',
  createdAtStart,
  settings: async () => settings,
})
const redrive = { deadLetterTargetArn: 'arn:aws:sqs:us-east-1:1:events-dlq', maxReceiveCount: 10 }

async function doctor(over: Partial<DoctorDeps> = {}) {
  const outcomes = await runDoctor(
    doctorChecks({
      bank: fakeBank(),
      stark: { projectId: '5656565656565656', environment: 'production' },
      publicUrl: PUBLIC_URL,
      ledger: fakeLedger(),
      queues: [],
      stripe: undefined,
      handlingMs: 30_000,
      ...over,
    }),
  )
  return (name: string) => outcomes.find((o) => o.name === name)?.result
}

describe('doctor checks', () => {
  it('passes a set-up where every part answers as it should', async () => {
    const check = await doctor({ queues: [queue({ redrive, visibilityTimeoutSeconds: 30 })] })
    for (const name of [
      'Stark Bank credentials',
      'clock',
      'webhook public key',
      'webhook subscription',
      'balance',
      'queue events',
      'ledger writable',
      'ledger migrations',
    ]) {
      expect(check(name)?.ok).toBe(true)
    }
  })

  it('fails the balance when pending and held transfers need more than the workspace has, saying how much to add', async () => {
    const check = await doctor({
      ledger: fakeLedger({
        transfersToSend: async () => ({
          pending: { count: 2, cents: 60_000 },
          held: { count: 1, cents: 50_000 },
        }),
      }),
    })
    expect(check('balance')).toEqual({
      ok: false,
      detail: 'R$ 1,000.00 against 2 pending (R$ 600.00) and 1 held (R$ 500.00) transfers',
      fix: 'add at least R$ 100.00 to the Stark Bank workspace before they are sent',
    })
  })

  it('fails the clock two minutes behind Stark Bank, and names the refusal when Stark Bank already refuses the time', async () => {
    const behind = await doctor({
      bank: fakeBank({
        serverTime: async () => ({ at: NOW + 120_000, localAt: NOW + 500, roundTripMs: 20 }),
      }),
    })
    expect(behind('clock')).toEqual({
      ok: false,
      detail: '120 s behind Stark Bank (more than 30 s)',
      fix: "set this host's clock (NTP)",
    })
    const refused = new BankError('rejected', 'get the balance rejected: invalidAccessTime: too far', [
      { code: 'invalidAccessTime', message: 'too far' },
    ])
    const check = await doctor({ bank: fakeBank({ balance: () => Promise.reject(refused) }) })
    expect(check('Stark Bank credentials')).toMatchObject({ ok: false, fix: expect.stringContaining('NTP') })
  })

  it('asks for PUBLIC_URL when it is not set, since the subscription cannot be compared', async () => {
    const check = await doctor({ publicUrl: undefined })
    expect(check('webhook subscription')).toMatchObject({
      ok: false,
      fix: 'set PUBLIC_URL to the https:// address Stark Bank reaches paybridge at',
    })
  })

  it('fails a queue whose visibility timeout is shorter than handling, and one given by URL that does not exist', async () => {
    const short = await doctor({ queues: [queue({ redrive, visibilityTimeoutSeconds: 5 })] })
    expect(short('queue events')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('VisibilityTimeout=30'),
    })
    const missingByUrl = await doctor({ queues: [queue('missing', false)] })
    expect(missingByUrl('queue events')?.ok).toBe(false)
    const missingByName = await doctor({ queues: [queue('missing', true)] })
    expect(missingByName('queue events')).toEqual({
      ok: true,
      detail: 'not created yet: paybridge creates it and its dead-letter queue at start',
    })
  })

  it('fails a ledger migrated by a newer paybridge', async () => {
    const check = await doctor({
      ledger: fakeLedger({
        migrations: async () => ({ known: 10, latestKnown: 1000, applied: 11, latestApplied: 2000 }),
      }),
    })
    expect(check('ledger migrations')).toMatchObject({
      ok: false,
      detail: 'the ledger has migrations newer than this build (11 applied, 10 known)',
    })
  })

  it('reports a check that throws as failed with what it threw, and still runs the others', async () => {
    const check = await doctor({
      bank: fakeBank({ serverTime: () => Promise.reject(new Error('socket hang up')) }),
    })
    expect(check('clock')).toMatchObject({ ok: false, detail: 'socket hang up' })
    expect(check('ledger writable')?.ok).toBe(true)
  })

  it("fails the ledger-backed checks with the ledger's variable when the ledger cannot be read", async () => {
    const check = await doctor({
      ledger: fakeLedger({ transfersToSend: () => Promise.reject(new Error('no such table: transfers')) }),
    })
    expect(check('balance')).toEqual({
      ok: false,
      detail: 'no such table: transfers',
      fix: 'check DATABASE_PATH',
    })
  })
})

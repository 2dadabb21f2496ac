import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs'
import { generateKeyPair, privateKeyFromPem, sign } from '../src/adapters/starkbank/ecdsa.ts'
import { type Fauxqs, fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { viewsOf } from './support/ledger-views.ts'
import { sample } from './support/metrics-sample.ts'
import { type Rig, startRig } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// End to end over real HTTP: the real starkbank SDK → local emulator, signed webhooks → paybridge's
// webhook → embedded queue → worker → ledger + outbox → relay → transfers at the emulator.

const DESTINATION = {
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
}

function counts(rig: Rig) {
  const q = (sql: string) => (rig.ledgerFile.sqlite.query(sql).get() as { n: number }).n
  return {
    events: q('select count(*) as n from events'),
    transfers: q('select count(*) as n from transfers'),
    dead: q('select count(*) as n from dead_letters'),
    invoices: q('select count(*) as n from invoices'),
  }
}

async function post(rig: Rig, body: string, headers: Record<string, string>) {
  return fetch(rig.webhookUrl, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

/** Messages still on the queue, visible or in flight. */
async function queued(rig: Rig): Promise<number> {
  if (rig.paybridge.queue.kind === 'embedded') {
    return (rig.ledgerFile.sqlite.query('select count(*) as n from queue_messages').get() as { n: number }).n
  }
  const client = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs?.endpoint })
  const url = (await client.send(new GetQueueUrlCommand({ QueueName: rig.paybridge.queue.name }))).QueueUrl
  const attrs = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  )
  return (
    Number(attrs.Attributes?.ApproximateNumberOfMessages) +
    Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible)
  )
}

let fauxqs: Fauxqs | undefined
const ADMIN_TOKEN = 'admin-token-for-the-e2e-run-0123456789'
const STARK_PASSWORD = 'stark-url-password-e2e'
const SQS_PASSWORD = 'sqs-url-password-e2e'
const STRIPE_PASSWORD = 'stripe-url-password-e2e'
const withCredentials = (url: string, user: string, password: string) =>
  url.replace('://', `://${user}:${password}@`)

describe.each(['embedded', 'sqs'] as const)('Stark Bank flow, end to end, on the %s queue', (queueKind) => {
  let rig: Rig
  beforeAll(async () => {
    let env: Record<string, string> = {}
    if (queueKind === 'sqs') {
      fauxqs = await startFauxqs()
      // The AWS SDK's default credential chain reads these; fauxqs accepts any.
      process.env.AWS_ACCESS_KEY_ID = 'test'
      process.env.AWS_SECRET_ACCESS_KEY = 'test'
      env = {
        AWS_REGION: 'us-east-1',
        SQS_ENDPOINT: withCredentials(fauxqs.endpoint, 'sqs-user', SQS_PASSWORD),
        SQS_QUEUE_NAME: 'stark-events-e2e.fifo',
      }
    }
    rig = await startRig({
      payShare: 1,
      env: {
        ...env,
        ADMIN_TOKEN,
        STRIPE_SERVICE_URL: `http://hook:${STRIPE_PASSWORD}@127.0.0.1:9/stripe-hook`,
        STRIPE_WEBHOOK_SECRET: 'whsec_e2e',
        ...(queueKind === 'sqs' ? { STRIPE_QUEUE_NAME: 'stripe-events-e2e' } : {}),
      },
      // URLs carrying credentials, as a proxy or basic-auth downstream needs them: logged redacted.
      apiUrlCredentials: { user: 'stark-user', password: STARK_PASSWORD },
    })
    expect(rig.paybridge.queue.kind).toBe(queueKind)
  })
  let views: ReturnType<typeof viewsOf> | undefined
  const ledgerRows: ReturnType<typeof viewsOf>['rows'] = (view, filter) => {
    views ??= viewsOf(rig.ledgerFile)
    return views.rows(view, filter)
  }
  afterAll(async () => {
    await views?.close()
    await rig.stop()
    await fauxqs?.stop()
    fauxqs = undefined
  })

  it('issues 8–12 invoices and pays each credited one out once, as amount − fee to the configured account', async () => {
    const run = await rig.paybridge.issueInvoicesNow()
    expect(run.planned).toBe(true)
    const issued = rig.emulator.invoices()
    expect(issued.length).toBeGreaterThanOrEqual(8)
    expect(issued.length).toBeLessThanOrEqual(12)
    await waitFor('every invoice paid and transferred', () => {
      const paid = rig.emulator.invoices().filter((i) => i.status === 'paid')
      return paid.length === issued.length && rig.emulator.transfers().length === paid.length
    })
    // Let late retries or duplicates show up before counting.
    await Bun.sleep(300)
    const paid = rig.emulator.invoices()
    const transfers = rig.emulator.transfers()
    expect(transfers.length).toBe(paid.length)
    for (const invoice of paid) {
      const forIt = transfers.filter((t) => t.externalId === `paybridge-invoice-${invoice.id}`)
      expect(forIt.length).toBe(1)
      const t = forIt[0]!
      expect(t.amount).toBe(invoice.amount - (invoice.fee ?? 0))
      expect({
        name: t.name,
        taxId: t.taxId,
        bankCode: t.bankCode,
        branchCode: t.branchCode,
        accountNumber: t.accountNumber,
        accountType: t.accountType,
      }).toEqual(DESTINATION)
    }
    const rows = await ledgerRows('transfers', { limit: 100 })
    expect(rows.length).toBe(paid.length)
    expect(rows.every((r) => r.status === 'created')).toBe(true)
    expect((await ledgerRows('invoices', { limit: 100 })).every((r) => r.status === 'credited')).toBe(true)
  })

  it('counts what happened in /metrics: webhooks accepted, invoices issued, transfers created', async () => {
    const text = await (await fetch(`http://127.0.0.1:${rig.paybridge.port}/metrics`)).text()
    const value = (series: string) => sample(text, series)
    const invoices = rig.emulator.invoices().length
    expect(value('paybridge_webhooks_total{source="starkbank",outcome="accepted"}')).toBe(invoices)
    expect(value('paybridge_invoices_issued_total')).toBe(invoices)
    expect(value('paybridge_scheduler_runs_total{outcome="issued"}')).toBe(1)
    expect(value('paybridge_transfers{status="created"}')).toBe(rig.emulator.transfers().length)
    expect(value('paybridge_outbox_rows{kind="transfer",status="pending"}')).toBe(0)
    expect(value('paybridge_outbox_rows{kind="transfer",status="in_flight"}')).toBe(0)
    expect(value(`paybridge_queue_acked_total{queue="${rig.paybridge.queue.name}"}`)).toBe(invoices)
  })

  it('creates one transfer when the same signed webhook is delivered twice', async () => {
    const before = rig.emulator.transfers().length
    const event = rig.emulator.events().at(-1)!
    const body = JSON.stringify({ event: { ...event, attempts: undefined } })
    const signature = sign(body, privateKeyFromPem(rig.signingKey))
    const first = await post(rig, body, { 'Digital-Signature': signature })
    const second = await post(rig, body, { 'Digital-Signature': signature })
    expect([first.status, second.status]).toEqual([200, 200])
    await Bun.sleep(500)
    expect(rig.emulator.transfers().length).toBe(before)
    expect(await queued(rig)).toBe(0)
  })

  it('creates one transfer when the same queue message is delivered twice', async () => {
    const invoice = rig.emulator.invoices()[0]!
    const body = JSON.stringify({
      event: {
        id: '9100000000000001',
        subscription: 'invoice',
        created: new Date().toISOString(),
        log: { id: '9100000000000002', type: 'credited', invoice: { ...invoice, status: 'paid' } },
      },
    })
    const before = counts(rig)
    // Two copies of one message with no dedup id: the queue delivers both, the inbox keeps one.
    await rig.paybridge.queue.send([{ body }, { body }])
    await waitFor('both copies consumed', async () => (await queued(rig)) === 0)
    await Bun.sleep(300)
    const after = counts(rig)
    expect(after.events).toBe(before.events + 1)
    expect(after.transfers).toBe(before.transfers)
    expect(
      rig.emulator.transfers().filter((t) => t.externalId === `paybridge-invoice-${invoice.id}`).length,
    ).toBe(1)
  })

  it('dead-letters messages it cannot read, with the reason, and processes the ones behind them', async () => {
    const before = counts(rig)
    const invoice = rig.emulator.invoices()[1]!
    const good = JSON.stringify({
      event: {
        id: '9100000000000003',
        subscription: 'invoice',
        created: new Date().toISOString(),
        log: { id: '9100000000000004', type: 'credited', invoice: { ...invoice, status: 'paid' } },
      },
    })
    await rig.paybridge.queue.send([
      { body: '{"event": oops' },
      { body: JSON.stringify({ event: { id: 'evt-shape', subscription: 7 } }) },
      { body: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }) },
      { body: good },
    ])
    await waitFor('queue drained', async () => (await queued(rig)) === 0)
    const after = counts(rig)
    expect(after.dead).toBe(before.dead + 3)
    expect(after.events).toBe(before.events + 1)
    const reasons = rig.ledgerFile.sqlite.query('select reason from dead_letters').all() as {
      reason: string
    }[]
    expect(reasons.map((r) => r.reason)).toEqual(
      expect.arrayContaining([
        'body is not JSON',
        expect.stringContaining('not a Stark Bank event'),
        expect.stringContaining('over the 65536-byte limit'),
      ]),
    )
  })

  it('refuses forged, tampered, unsigned and malformed webhooks (ids that are not digits too) and changes nothing', async () => {
    const before = counts(rig)
    const body = JSON.stringify({
      event: {
        id: 'evt-forged',
        subscription: 'invoice',
        created: new Date().toISOString(),
        log: {
          id: 'l',
          type: 'credited',
          invoice: { id: 'inv-forged', amount: 100_000, fee: 0, status: 'paid', tags: [] },
        },
      },
    })
    const forger = generateKeyPair()
    const forged = await post(rig, body, {
      'Digital-Signature': sign(body, privateKeyFromPem(forger.privatePem)),
    })
    expect(forged.status).toBe(401)
    const genuine = sign(body, privateKeyFromPem(rig.signingKey))
    const tampered = await post(rig, body.replace('100000', '900000'), { 'Digital-Signature': genuine })
    expect(tampered.status).toBe(401)
    const unsigned = await post(rig, body, {})
    expect(unsigned.status).toBe(401)
    const garbage = await post(rig, body, { 'Digital-Signature': 'not base64 at all!!' })
    expect(garbage.status).toBe(401)
    // Genuinely signed, but its ids are not Stark Bank's digit strings: malformed, field named.
    const letters = await post(rig, body, { 'Digital-Signature': genuine })
    expect(letters.status).toBe(400)
    expect(await letters.text()).toContain('event.id')
    const malformed = '{"event": {"id": "evt-bad", '
    const badJson = await post(rig, malformed, {
      'Digital-Signature': sign(malformed, privateKeyFromPem(rig.signingKey)),
    })
    expect(badJson.status).toBe(400)
    const wrongShape = JSON.stringify({ event: { id: 42 } })
    const badShape = await post(rig, wrongShape, {
      'Digital-Signature': sign(wrongShape, privateKeyFromPem(rig.signingKey)),
    })
    expect(badShape.status).toBe(400)
    const huge = JSON.stringify({ pad: 'x'.repeat(70 * 1024) })
    const tooLarge = await post(rig, huge, {
      'Digital-Signature': sign(huge, privateKeyFromPem(rig.signingKey)),
    })
    expect(tooLarge.status).toBe(413)
    await Bun.sleep(200)
    expect(counts(rig)).toEqual(before)
  })

  it('ends with exactly one transfer when the first transfer call fails with 500, then hangs past the timeout', async () => {
    const transfersBefore = rig.emulator.transfers().length
    rig.emulator.fail('POST /v2/transfer', { status: 500, times: 1 })
    // The hang happens after the transfer was created: the response is lost, the effect is not.
    rig.emulator.fail('POST /v2/transfer', { delayMs: 3_000, afterProcessing: true, times: 1 })
    const run = await rig.paybridge.issueInvoicesNow()
    expect(run.planned).toBe(true)
    const total = rig.emulator.invoices().length
    await waitFor(
      'all transfers created despite faults',
      async () =>
        rig.emulator.transfers().length === total &&
        (await ledgerRows('outbox', { limit: 500 })).every((o) => o.status === 'done'),
      20_000,
    )
    await Bun.sleep(300)
    const transfers = rig.emulator.transfers()
    expect(transfers.length).toBe(total)
    expect(transfers.length).toBeGreaterThan(transfersBefore)
    expect(new Set(transfers.map((t) => t.externalId)).size).toBe(transfers.length)
    expect(rig.emulator.counts['POST /v2/transfer']).toBeGreaterThanOrEqual(3)
    // The transfers created by the hung call were found by their tag, not created again.
    expect(rig.logs.some((l) => l.includes('transfer found already created'))).toBe(true)
    expect(
      rig.logs.some((l) => l.includes('transfer outcome not known yet; will look it up and retry')),
    ).toBe(true)
  })

  it('keeps the private key and the admin token out of every log line of the whole run', async () => {
    expect(rig.logs.length).toBeGreaterThan(50)
    const keyLines = rig.projectKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))
    const all = rig.logs.join('\n')
    for (const line of keyLines) expect(all).not.toContain(line)
    expect(all).not.toContain('PRIVATE KEY')
    expect(all).not.toContain(ADMIN_TOKEN)
    // URLs with credentials are logged with their user info masked.
    for (const secret of [STARK_PASSWORD, SQS_PASSWORD, STRIPE_PASSWORD, 'stark-user', 'sqs-user'])
      expect(all).not.toContain(secret)
    expect(all).toContain('http://***@127.0.0.1:')
    expect(all).toContain('http://***@127.0.0.1:9/stripe-hook')
    // Every line is one JSON object with a time, a level and a message.
    for (const line of rig.logs)
      expect(Object.keys(JSON.parse(line))).toEqual(expect.arrayContaining(['time', 'level', 'msg']))
  })

  it('prints the ledger from the CLI, as a table and as JSON', async () => {
    const cli = (...args: string[]) =>
      Bun.spawnSync([process.execPath, 'run', 'src/main.ts', 'ledger', ...args], {
        cwd: join(import.meta.dir, '..'),
        env: { ...process.env, DATABASE_PATH: rig.config.databasePath },
      })
    const json = cli('transfers', '--json', '--limit', '500')
    expect(json.exitCode).toBe(0)
    const rows = JSON.parse(json.stdout.toString()) as { transfer: string; status: string }[]
    expect(rows.length).toBe(rig.emulator.transfers().length)
    expect(new Set(rows.map((r) => r.transfer))).toEqual(
      new Set(rig.emulator.transfers().map((t) => t.externalId)),
    )
    const table = cli('invoices')
    expect(table.exitCode).toBe(0)
    const lines = table.stdout.toString().trim().split('\n')
    expect(lines[0]).toMatch(/^invoice\s+stark_id\s+status\s+amount/)
    const inLedger = counts(rig).invoices
    expect(inLedger).toBe(rig.emulator.invoices().length)
    expect(lines.length).toBe(2 + Math.min(50, inLedger))
    const bad = cli('nonsense')
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr.toString()).toContain('unknown ledger view "nonsense"')
  })

  // Last on purpose: it stops the SQS server.
  if (queueKind !== 'sqs') return
  it('answers 503 while the queue cannot take the event, so Stark Bank retries', async () => {
    await fauxqs?.stop()
    fauxqs = undefined
    const body = JSON.stringify({
      event: {
        id: '9100000000000005',
        subscription: 'invoice',
        created: new Date().toISOString(),
        log: {
          id: '9100000000000006',
          type: 'credited',
          invoice: { id: '9100000000000007', amount: 500, fee: 0, status: 'paid', tags: [] },
        },
      },
    })
    const res = await post(rig, body, { 'Digital-Signature': sign(body, privateKeyFromPem(rig.signingKey)) })
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ error: 'queue unavailable' })
    expect(
      rig.logs.some(
        (l) => l.includes('webhook not queued; Stark Bank will retry') && l.includes('9100000000000005'),
      ),
    ).toBe(true)
  })
})

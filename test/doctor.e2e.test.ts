import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs'
import { ensureQueue } from '../src/adapters/sqs/provision.ts'
import { starkBank } from '../src/adapters/starkbank/bank.ts'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { type Fauxqs, fauxqsClientConfig, startFauxqs } from './support/fauxqs.ts'
import { envFor, PROJECT_ID, tempDir } from './support/paybridge.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'
import { freePort, runCli } from './support/process.ts'
import { type StripeDownstream, startStripeDownstream } from './support/stripe-downstream.ts'

// `doctor` as an operator runs it before going live: the real CLI against the emulator (real SDK over
// HTTP), a Stripe stand-in, the SQLite ledger, and PostgreSQL with its queues on fauxqs.

const keys = generateKeyPair()
const PUBLIC_URL = 'https://paybridge.example.com'
const WEBHOOK_URL = `${PUBLIC_URL}/webhook/starkbank`
const SECRET = 'whsec_doctor'
const dir = tempDir('paybridge-doctor-')
let emulator: StarkBankEmulator
let stripe: StripeDownstream
let pg: Postgres | undefined
let fauxqs: Fauxqs | undefined

beforeAll(async () => {
  ;[emulator, stripe, pg, fauxqs] = await Promise.all([
    startStarkBankEmulator({ port: 0, projects: { [PROJECT_ID]: keys.publicPem }, payShare: 0 }),
    startStripeDownstream({ secret: SECRET }),
    startPostgres(),
    startFauxqs(),
  ])
}, 60_000)
afterAll(async () => {
  await Promise.all([emulator?.stop(), stripe?.stop(), pg?.stop(), fauxqs?.stop()])
  dir.cleanup()
})

const bank = () =>
  starkBank({
    projectId: PROJECT_ID,
    privateKeyPem: keys.privatePem,
    environment: 'sandbox',
    apiUrl: emulator.url,
    timeoutMs: 2000,
  })

beforeEach(async () => {
  for (const webhook of await bank().webhooks()) await bank().removeWebhook(webhook.id)
})

const sqliteEnv = (extra: Record<string, string> = {}) =>
  envFor(emulator, keys.privatePem, {
    PUBLIC_URL,
    DATABASE_PATH: join(dir.path, 'ledger.sqlite'),
    STRIPE_SERVICE_URL: stripe.url,
    STRIPE_WEBHOOK_SECRET: SECRET,
    ...extra,
  })

/** The checklist line of one check. */
const line = (stdout: string, check: string) => stdout.split('\n').find((l) => l.slice(6).startsWith(check))
/** The fix printed under the failed check. */
const fixOf = (stdout: string, check: string) => {
  const lines = stdout.split('\n')
  const at = lines.findIndex((l) => l.slice(6).startsWith(check))
  return lines[at + 1]?.trim()
}

describe('doctor on the emulator and the SQLite ledger', () => {
  it('passes every check once the webhook is registered, and says so with exit 0', async () => {
    await bank().registerWebhook(WEBHOOK_URL, ['invoice', 'transfer'])
    const { code, stdout, stderr } = await runCli(['doctor'], sqliteEnv())
    expect(stderr).toBe('')
    for (const check of [
      'Stark Bank credentials',
      'clock',
      'webhook public key',
      'webhook subscription',
      'balance',
      'Stripe downstream',
      'ledger writable',
      'ledger migrations',
    ]) {
      expect(line(stdout, check)).toStartWith('ok  ')
    }
    expect(line(stdout, 'clock')).toContain('in step with Stark Bank (to the second)')
    expect(line(stdout, 'webhook subscription')).toContain(`${WEBHOOK_URL} gets invoice and transfer events`)
    expect(line(stdout, 'balance')).toContain('R$ 10,000.00 against 0 pending (R$ 0.00) and 0 held (R$ 0.00)')
    expect(stdout).toEndWith('all 8 checks pass\n')
    expect(code).toBe(0)
  })

  it('fails with the register command when the subscription points elsewhere than PUBLIC_URL', async () => {
    await bank().registerWebhook('https://old.example.com/webhook/starkbank', ['invoice', 'transfer'])
    const { code, stdout } = await runCli(['doctor'], sqliteEnv())
    expect(line(stdout, 'webhook subscription')).toStartWith('FAIL')
    expect(line(stdout, 'webhook subscription')).toContain(
      `no webhook at ${WEBHOOK_URL} (they point at https://old.example.com/webhook/starkbank)`,
    )
    expect(fixOf(stdout, 'webhook subscription')).toBe(
      `fix: bun run src/main.ts webhooks register --url ${WEBHOOK_URL}`,
    )
    expect(stdout).toEndWith('1 of 8 checks FAIL\n')
    expect(code).toBe(1)
  })

  it('fails with --replace when the subscription at PUBLIC_URL lacks transfer events', async () => {
    await bank().registerWebhook(WEBHOOK_URL, ['invoice'])
    const { code, stdout } = await runCli(['doctor'], sqliteEnv())
    expect(line(stdout, 'webhook subscription')).toStartWith('FAIL')
    expect(line(stdout, 'webhook subscription')).toContain(
      `the webhook at ${WEBHOOK_URL} lacks transfer events`,
    )
    expect(fixOf(stdout, 'webhook subscription')).toBe(
      `fix: bun run src/main.ts webhooks register --url ${WEBHOOK_URL} --replace`,
    )
    expect(code).toBe(1)
  })

  it('fails when the Stripe downstream does not answer', async () => {
    await bank().registerWebhook(WEBHOOK_URL, ['invoice', 'transfer'])
    const nowhere = `http://127.0.0.1:${freePort()}`
    const { code, stdout } = await runCli(['doctor'], sqliteEnv({ STRIPE_SERVICE_URL: nowhere }))
    expect(line(stdout, 'Stripe downstream')).toStartWith('FAIL')
    expect(line(stdout, 'Stripe downstream')).toContain(`${nowhere}/api/v1/Stripe/Webhook is unreachable`)
    expect(fixOf(stdout, 'Stripe downstream')).toBe('fix: check STRIPE_SERVICE_URL and that the service runs')
    expect(stdout).toEndWith('1 of 8 checks FAIL\n')
    expect(code).toBe(1)
  })

  it('fails on keys Stark Bank does not know, naming the variables to check', async () => {
    const stranger = generateKeyPair()
    const { code, stdout } = await runCli(['doctor'], {
      ...sqliteEnv(),
      STARK_PRIVATE_KEY: stranger.privatePem,
    })
    expect(line(stdout, 'Stark Bank credentials')).toStartWith('FAIL')
    expect(fixOf(stdout, 'Stark Bank credentials')).toContain('check STARK_PROJECT_ID and STARK_PRIVATE_KEY')
    expect(code).toBe(1)
  })
  it('fails the ledger checks, with why, when the ledger cannot be opened, and still checks the rest', async () => {
    await bank().registerWebhook(WEBHOOK_URL, ['invoice', 'transfer'])
    const { code, stdout, stderr } = await runCli(
      ['doctor', '--json'],
      sqliteEnv({ DATABASE_PATH: '/proc/paybridge/ledger.sqlite' }),
    )
    expect(stderr).toBe('')
    const { checks } = JSON.parse(stdout) as {
      checks: { name: string; result: { ok: boolean; detail: string; fix?: string } }[]
    }
    const result = (name: string) => checks.find((c) => c.name === name)?.result
    expect(result('ledger writable')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^the ledger did not open: /),
      fix: 'check DATABASE_PATH',
    })
    expect(result('ledger migrations')).toMatchObject({ ok: false, fix: 'check DATABASE_PATH' })
    expect(result('balance')).toMatchObject({ ok: false, fix: 'check DATABASE_PATH' })
    expect(result('webhook subscription')?.ok).toBe(true)
    expect(code).toBe(1)
  })
})

describe('doctor on PostgreSQL with the queues on SQS (fauxqs)', () => {
  it('passes with queues paybridge provisioned, and fails on a queue without a redrive policy', async () => {
    await bank().registerWebhook(WEBHOOK_URL, ['invoice', 'transfer'])
    const sqs = new SQSClient({ ...fauxqsClientConfig, endpoint: fauxqs!.endpoint })
    await ensureQueue({ client: sqs, name: 'doctor-stark', fifo: false, maxReceiveCount: 10 })
    const stripeQueue = await ensureQueue({
      client: sqs,
      name: 'doctor-stripe',
      fifo: false,
      maxReceiveCount: 10,
    })
    const bare = await sqs.send(new CreateQueueCommand({ QueueName: 'doctor-bare' }))
    sqs.destroy()
    const env = {
      ...sqliteEnv(),
      DATABASE_URL: await pg!.createDatabase('doctor'),
      SQS_QUEUE_NAME: 'doctor-stark',
      STRIPE_QUEUE_URL: stripeQueue,
      SQS_ENDPOINT: fauxqs!.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    }
    const passing = await runCli(['doctor'], env)
    expect(passing.stderr).toBe('')
    expect(line(passing.stdout, 'queue doctor-stark (Stark Bank events)')).toMatch(
      /^ok {4}.*dead letters after 10 receives, visibility \d+ s ≥ 2 s$/,
    )
    expect(line(passing.stdout, `queue ${stripeQueue} (Stripe events)`)).toStartWith('ok  ')
    expect(line(passing.stdout, 'ledger writable')).toContain('postgres ledger takes writes')
    expect(passing.stdout).toEndWith('all 10 checks pass\n')
    expect(passing.code).toBe(0)

    const failing = await runCli(['doctor'], { ...env, STRIPE_QUEUE_URL: bare.QueueUrl ?? '' })
    expect(line(failing.stdout, `queue ${bare.QueueUrl} (Stripe events)`)).toContain(
      'no RedrivePolicy: a message that keeps failing is received for ever',
    )
    expect(fixOf(failing.stdout, `queue ${bare.QueueUrl} (Stripe events)`)).toContain('set a RedrivePolicy')
    expect(failing.stdout).toEndWith('1 of 10 checks FAIL\n')
    expect(failing.code).toBe(1)
  })
})

import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { ConfigError, loadConfig, loadLocalStarkBankConfig } from '../src/config.ts'
import { tempDir } from './support/paybridge.ts'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  it('runs on the embedded defaults with an empty environment', () => {
    const config = loadConfig({})
    expect(config.stark).toBeUndefined()
    expect(config.port).toBe(3000)
    expect(config.invoiceSchedule).toBe('0 */3 * * *')
    expect(config.destination).toEqual({
      name: 'Stark Bank S.A.',
      taxId: '20.018.183/0001-80',
      bankCode: '20018183',
      branchCode: '0001',
      accountNumber: '6341320293482496',
      accountType: 'payment',
    })
  })

  it('pays out only invoices paybridge issued unless PAYOUT_SCOPE=all, and refuses other scopes', () => {
    expect(loadConfig({}).payoutScope).toBe('issued')
    expect(loadConfig({ PAYOUT_SCOPE: 'all' }).payoutScope).toBe('all')
    expect(problemsOf({ PAYOUT_SCOPE: 'everything' })).toEqual([
      expect.stringMatching(/^PAYOUT_SCOPE: .*issued or all/),
    ])
  })

  it('waits 5 minutes by default after a lost invoice create before a resume creates again, or INVOICE_RESUME_AFTER_UNKNOWN_MS', () => {
    expect(loadConfig({}).invoiceResumeAfterUnknownMs).toBe(300_000)
    expect(loadConfig({ INVOICE_RESUME_AFTER_UNKNOWN_MS: '0' }).invoiceResumeAfterUnknownMs).toBe(0)
    expect(problemsOf({ INVOICE_RESUME_AFTER_UNKNOWN_MS: '-1' }).join('\n')).toContain(
      'INVOICE_RESUME_AFTER_UNKNOWN_MS',
    )
  })

  it('lists every problem with its variable, at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      STARK_ENVIRONMENT: 'staging',
      STARK_API_URL: 'not a url',
      QUEUE_MAX_RECEIVES: '0',
    })
    expect(problems.length).toBe(4)
    for (const name of ['PORT', 'STARK_ENVIRONMENT', 'STARK_API_URL', 'QUEUE_MAX_RECEIVES']) {
      expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true)
    }
  })

  it('needs the private key with the project id, and never prints the key', () => {
    expect(problemsOf({ STARK_PROJECT_ID: '123' })).toEqual([
      'STARK_PRIVATE_KEY: required when STARK_PROJECT_ID is set (or STARK_PRIVATE_KEY_FILE)',
    ])
    const { privatePem } = generateKeyPair()
    const secret = privatePem.split('\n')[1] ?? ''
    const problems = problemsOf({ STARK_PRIVATE_KEY: privatePem, STARK_ENVIRONMENT: 'nope' })
    expect(problems.join('\n')).not.toContain(secret)
    expect(problems.some((p) => p.startsWith('STARK_PROJECT_ID:'))).toBe(true)
  })

  it('reads the private key from STARK_PRIVATE_KEY_FILE and trims a trailing slash from STARK_API_URL', () => {
    const dir = tempDir()
    try {
      const { privatePem } = generateKeyPair()
      const file = join(dir.path, 'key.pem')
      writeFileSync(file, privatePem)
      const config = loadConfig({
        STARK_PROJECT_ID: '123',
        STARK_PRIVATE_KEY_FILE: file,
        STARK_API_URL: 'http://127.0.0.1:9100/',
      })
      expect(config.stark?.privateKeyPem).toBe(privatePem)
      expect(config.stark?.apiUrl).toBe('http://127.0.0.1:9100')
      expect(
        problemsOf({ STARK_PROJECT_ID: '123', STARK_PRIVATE_KEY_FILE: join(dir.path, 'missing.pem') }),
      ).toEqual(['STARK_PRIVATE_KEY_FILE: cannot read (ENOENT)'])
    } finally {
      dir.cleanup()
    }
  })

  it('refuses a relay lease that cannot hold the Stark Bank calls of one transfer, naming both variables', () => {
    const [problem] = problemsOf({ STARK_TIMEOUT_MS: '10000', RELAY_LEASE_MS: '30999' })
    expect(problem).toStartWith('RELAY_LEASE_MS, STARK_TIMEOUT_MS:')
    expect(problem).toContain('at least 31000 ms, 3 × STARK_TIMEOUT_MS + 1000 ms')
    expect(loadConfig({ STARK_TIMEOUT_MS: '10000', RELAY_LEASE_MS: '31000' }).relayLeaseMs).toBe(31_000)
    // Listed with the other problems, even when other variables are wrong too.
    expect(problemsOf({ PORT: 'x', STARK_TIMEOUT_MS: '10000', RELAY_LEASE_MS: '20000' }).length).toBe(2)
    // A lease shorter than one request is refused too, whatever else is set.
    expect(problemsOf({ STARK_TIMEOUT_MS: '5000', RELAY_LEASE_MS: '4000' })[0]).toStartWith(
      'RELAY_LEASE_MS, STARK_TIMEOUT_MS:',
    )
  })

  it('refuses a lease that cannot outlast one POST to the Stripe service and the write after it', () => {
    const stripe = { STRIPE_SERVICE_URL: 'http://127.0.0.1:9300', STRIPE_WEBHOOK_SECRET: 'whsec_x' }
    const base = { ...stripe, STARK_TIMEOUT_MS: '1000', STRIPE_TIMEOUT_MS: '10000' }
    const [problem] = problemsOf({ ...base, RELAY_LEASE_MS: '10999' })
    expect(problem).toStartWith('RELAY_LEASE_MS, STRIPE_TIMEOUT_MS:')
    expect(problem).toContain('at least 11000')
    expect(loadConfig({ ...base, RELAY_LEASE_MS: '11000' }).relayLeaseMs).toBe(11_000)
    // Without a Stripe service the Stripe timeout is not used, so it does not limit the lease.
    expect(
      loadConfig({ STARK_TIMEOUT_MS: '1000', STRIPE_TIMEOUT_MS: '10000', RELAY_LEASE_MS: '5000' }).stripe,
    ).toBe(undefined)
  })

  it('refuses production without Stark Bank credentials instead of running the local emulator', () => {
    const destination = {
      TRANSFER_NAME: 'Acme Ltda',
      TRANSFER_TAX_ID: '20.018.183/0001-80',
      TRANSFER_BANK_CODE: '341',
      TRANSFER_BRANCH_CODE: '1357-9',
      TRANSFER_ACCOUNT_NUMBER: '876543-2',
      TRANSFER_ACCOUNT_TYPE: 'checking',
    }
    expect(problemsOf({ STARK_ENVIRONMENT: 'production', ...destination })).toEqual([
      'STARK_PROJECT_ID, STARK_PRIVATE_KEY: required when STARK_ENVIRONMENT=production (without them paybridge would run its local emulator and move no real money)',
    ])
    const { privatePem } = generateKeyPair()
    const config = loadConfig({
      STARK_ENVIRONMENT: 'production',
      STARK_PROJECT_ID: '123',
      STARK_PRIVATE_KEY: privatePem,
      ...destination,
    })
    expect(config.stark?.environment).toBe('production')
    expect(config.destination).toEqual({
      name: 'Acme Ltda',
      taxId: '20.018.183/0001-80',
      bankCode: '341',
      branchCode: '1357-9',
      accountNumber: '876543-2',
      accountType: 'checking',
    })
  })

  it('checks every transfer destination field and lists each bad one at once', () => {
    const problems = problemsOf({
      TRANSFER_TAX_ID: '20.018.183/0001-81',
      TRANSFER_BANK_CODE: '34',
      TRANSFER_BRANCH_CODE: '00a1',
      TRANSFER_ACCOUNT_NUMBER: '8765-43',
      TRANSFER_ACCOUNT_TYPE: 'current',
    })
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'TRANSFER_TAX_ID',
      'TRANSFER_BANK_CODE',
      'TRANSFER_BRANCH_CODE',
      'TRANSFER_ACCOUNT_NUMBER',
      'TRANSFER_ACCOUNT_TYPE',
    ])
    expect(problems[0]).toContain('CPF or CNPJ')
    // A CPF, a 3-digit bank code, a branch and an account with their verifier digits are fine.
    const config = loadConfig({
      TRANSFER_TAX_ID: '012.345.678-90',
      TRANSFER_BANK_CODE: '341',
      TRANSFER_BRANCH_CODE: '1357-9',
      TRANSFER_ACCOUNT_NUMBER: '876543-2',
      TRANSFER_ACCOUNT_TYPE: 'salary',
    })
    expect(config.destination.taxId).toBe('012.345.678-90')
    for (const bad of ['1234', '123456789', '2001818a'])
      expect(problemsOf({ TRANSFER_BANK_CODE: bad })[0]).toStartWith('TRANSFER_BANK_CODE:')
  })

  it("reads the local Stark Bank's variables: how the embedded one pays, and where the standalone one listens", () => {
    // Transfers settle a second after they are created; one in ten fails.
    const transferEvents = { failShare: 0.1, processingAfterMs: 500, settledAfterMs: 1000 }
    expect(loadConfig({}).emulator).toEqual({ payShare: 0.8, payDelayMs: 1500, transferEvents })
    expect(
      loadConfig({
        EMULATOR_PAY_SHARE: '1',
        EMULATOR_PAY_DELAY_MS: '0',
        EMULATOR_TRANSFER_FAIL_SHARE: '0.5',
        EMULATOR_TRANSFER_SETTLE_MS: '300',
      }).emulator,
    ).toEqual({
      payShare: 1,
      payDelayMs: 0,
      transferEvents: { failShare: 0.5, processingAfterMs: 150, settledAfterMs: 300 },
    })
    expect(loadLocalStarkBankConfig({})).toEqual({
      port: 9100,
      payShare: 0.8,
      payDelayMs: 1500,
      transferEvents,
    })
    const { publicPem } = generateKeyPair()
    expect(
      loadLocalStarkBankConfig({
        EMULATOR_PORT: '0',
        EMULATOR_WEBHOOK_URL: 'http://127.0.0.1:3000/webhook/starkbank',
        EMULATOR_PAY_SHARE: '0.5',
        EMULATOR_PAY_DELAY_MS: '10',
        EMULATOR_PROJECT_ID: '42',
        EMULATOR_PROJECT_PUBLIC_KEY: publicPem.replace(/\n/g, '\\n'),
      }),
    ).toEqual({
      port: 0,
      webhookUrl: 'http://127.0.0.1:3000/webhook/starkbank',
      payShare: 0.5,
      payDelayMs: 10,
      transferEvents,
      projects: { '42': publicPem },
    })
  })

  it('names every bad local Stark Bank variable at once, and the project id without its key', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadLocalStarkBankConfig(env)
      } catch (err) {
        if (err instanceof ConfigError) return err.problems
        throw err
      }
      throw new Error('expected a ConfigError')
    }
    expect(
      problems({
        EMULATOR_PORT: '70000',
        EMULATOR_WEBHOOK_URL: 'not a url',
        EMULATOR_PAY_SHARE: '2',
        EMULATOR_PROJECT_ID: '42',
      }).map((p) => p.split(':')[0]),
    ).toEqual([
      'EMULATOR_PAY_SHARE',
      'EMULATOR_PORT',
      'EMULATOR_WEBHOOK_URL',
      'EMULATOR_PROJECT_ID, EMULATOR_PROJECT_PUBLIC_KEY',
    ])
    // paybridge's own configuration checks the pay share too, for its embedded emulator.
    expect(problemsOf({ EMULATOR_PAY_SHARE: '2' })).toEqual(['EMULATOR_PAY_SHARE: must be ≤ 1'])
    expect(problemsOf({ EMULATOR_TRANSFER_FAIL_SHARE: 'half', EMULATOR_TRANSFER_SETTLE_MS: '-1' })).toEqual([
      'EMULATOR_TRANSFER_FAIL_SHARE: must be a number',
      'EMULATOR_TRANSFER_SETTLE_MS: must be a whole number ≥ 0',
    ])
  })
})

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'bun:test'
import { starkBank } from '../src/adapters/starkbank/bank.ts'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { envFor, PROJECT_ID } from './support/paybridge.ts'
import { runCli } from './support/process.ts'

// `webhooks register|list` as an operator runs them: the real CLI, the real SDK over HTTP, the emulator.

const keys = generateKeyPair()
const PUBLIC_URL = 'https://paybridge.example.com'
const WEBHOOK_URL = `${PUBLIC_URL}/webhook/starkbank`
let emulator: StarkBankEmulator

beforeAll(async () => {
  emulator = await startStarkBankEmulator({
    port: 0,
    projects: { [PROJECT_ID]: keys.publicPem },
    payShare: 0,
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
const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCli(['webhooks', ...args], envFor(emulator, keys.privatePem, { PUBLIC_URL, ...extra }))

beforeEach(async () => {
  for (const webhook of await bank().webhooks()) await bank().removeWebhook(webhook.id)
})

describe('webhooks register', () => {
  it('subscribes PUBLIC_URL/webhook/starkbank to invoice and transfer, and a second run creates nothing', async () => {
    const first = await cli(['register'])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(
      new RegExp(`^created webhook \\d+: Stark Bank sends invoice and transfer events to ${WEBHOOK_URL}\\n$`),
    )
    const [webhook] = await bank().webhooks()
    expect(webhook).toEqual({
      id: expect.any(String),
      url: WEBHOOK_URL,
      subscriptions: ['invoice', 'transfer'],
    })

    const second = await cli(['register'])
    expect(second.code).toBe(0)
    expect(second.stdout).toBe(
      `nothing to create: webhook ${webhook?.id} already sends invoice and transfer events to ${WEBHOOK_URL}\n`,
    )
    expect(await bank().webhooks()).toEqual([webhook!])
  })

  it('reports a subscription at the URL that lacks transfer, changes nothing, and --replace completes it', async () => {
    const partial = await bank().registerWebhook('https://other.example.com/hook', ['invoice'])
    const reported = await cli(['register', '--url', 'https://other.example.com/hook'])
    expect(reported.code).toBe(1)
    expect(reported.stderr).toContain(
      `webhook ${partial.id} at https://other.example.com/hook lacks transfer events`,
    )
    expect(reported.stderr).toContain('webhooks register --url https://other.example.com/hook --replace')
    expect(await bank().webhooks()).toEqual([partial])

    const replaced = await cli(['register', '--url', 'https://other.example.com/hook', '--replace'])
    expect(replaced.code).toBe(0)
    expect(replaced.stdout).toMatch(new RegExp(`^deleted webhook ${partial.id} and created \\d+: `))
    const after = await bank().webhooks()
    expect(after.map((w) => [w.url, w.subscriptions])).toEqual([
      ['https://other.example.com/hook', ['invoice', 'transfer']],
    ])
    expect(after[0]?.id).not.toBe(partial.id)
  })

  it('refuses to guess a URL when neither --url nor PUBLIC_URL is given', async () => {
    const result = await cli(['register'], { PUBLIC_URL: '' })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('webhooks register needs --url https://… (or PUBLIC_URL set)')
    expect(await bank().webhooks()).toEqual([])
  })
})

describe('webhooks list', () => {
  it('prints every subscription as a table and as JSON', async () => {
    const a = await bank().registerWebhook(WEBHOOK_URL, ['invoice', 'transfer'])
    const b = await bank().registerWebhook('https://other.example.com/hook', ['deposit'])
    const table = await cli(['list'])
    expect(table.code).toBe(0)
    const rows = table.stdout.trim().split('\n')
    expect(rows[0]).toMatch(/^id\s+url\s+subscriptions$/)
    const body = rows.slice(2)
    expect(body).toHaveLength(2)
    expect(body).toContainEqual(
      expect.stringMatching(new RegExp(`^${a.id}\\s+${WEBHOOK_URL}\\s+invoice, transfer$`)),
    )
    expect(body).toContainEqual(
      expect.stringMatching(new RegExp(`^${b.id}\\s+https://other.example.com/hook\\s+deposit$`)),
    )

    const json = await cli(['list', '--json'])
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout) as { webhooks: unknown[] }
    expect(parsed.webhooks).toHaveLength(2)
    expect(parsed.webhooks).toContainEqual(a)
    expect(parsed.webhooks).toContainEqual(b)
  })
})

describe('webhooks with keys Stark Bank does not know', () => {
  it("prints Stark Bank's refusal in one line and exits 1", async () => {
    const stranger = generateKeyPair()
    const result = await runCli(['webhooks', 'list'], envFor(emulator, stranger.privatePem, { PUBLIC_URL }))
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'paybridge: list webhooks rejected: invalidCredentials: Provided digital signature in the header Access-Signature does not check out. See https://docs.api.starkbank.com/#auth for details.\n',
    )
  })
})

describe('webhooks and doctor without what they need', () => {
  it('refuses to run without Stark Bank credentials, and prints the usage for an unknown subcommand', async () => {
    for (const command of ['webhooks', 'doctor']) {
      const bare = await runCli([command, 'list'], { PUBLIC_URL, LOG_LEVEL: 'error' })
      expect(bare.code).toBe(2)
      expect(bare.stderr).toBe(
        `paybridge: \`${command}\` needs Stark Bank credentials (STARK_PROJECT_ID, STARK_PRIVATE_KEY; STARK_API_URL for an emulator)\n`,
      )
    }
    const unknown = await cli(['show'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toStartWith('usage: bun run src/main.ts webhooks register')
  })
})

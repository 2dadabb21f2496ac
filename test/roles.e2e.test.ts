import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { type Fauxqs, startFauxqs } from './support/fauxqs.ts'
import { envFor, PROJECT_ID, tempDir } from './support/paybridge.ts'
import { freePort, type PaybridgeProcess, runCli, spawnPaybridge } from './support/process.ts'
import { waitFor } from './support/wait.ts'

// paybridge split by role into separate processes on one SQS queue and one ledger file:
// a web process, two workers, and one process running the relay and the scheduler.

describe('roles in separate processes', () => {
  let fauxqs: Fauxqs
  let emulator: StarkBankEmulator
  const dir = tempDir('paybridge-roles-')
  const procs: PaybridgeProcess[] = []
  let env: Record<string, string | undefined>

  beforeAll(async () => {
    fauxqs = await startFauxqs()
    const project = generateKeyPair()
    emulator = await startStarkBankEmulator({
      port: 0,
      projects: { [PROJECT_ID]: project.publicPem },
      payShare: 1,
      payDelayMs: 20,
      webhookRetryDelaysMs: [300, 1_000, 2_000],
    })
    env = {
      ...process.env,
      ...envFor(emulator, project.privatePem, {
        DATABASE_PATH: join(dir.path, 'ledger.sqlite'),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        SQS_ENDPOINT: fauxqs.endpoint,
        SQS_QUEUE_NAME: 'stark-events-roles',
        LOG_LEVEL: 'info',
      }),
    }
  })

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.child.exited))
    await emulator.stop()
    await fauxqs.stop()
    dir.cleanup()
  })

  it('refuses an unknown role', async () => {
    const result = await runCli(['web', 'cook'], env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('unknown role(s) cook')
  })

  it('pays every credited invoice once, each process doing only its part', async () => {
    const webPort = freePort()
    emulator.setWebhookUrl(`http://127.0.0.1:${webPort}/webhook/starkbank`)
    const start = (name: string, roles: string[], extra: Record<string, string> = {}) => {
      const p = spawnPaybridge(roles, { ...env, ...extra }, join(dir.path, `${name}.log`))
      procs.push(p)
      return p
    }
    const web = start('web', ['web'], { PORT: String(webPort) })
    expect(await web.port()).toBe(webPort)
    const workers = [start('worker-1', ['worker']), start('worker-2', ['worker'])]
    const relayScheduler = start('relay-scheduler', ['relay', 'scheduler'])

    // The scheduler catches up the missed slot at start; two more batches from the CLI.
    await waitFor('the scheduled run issued', () => emulator.invoices().length >= 8, 15_000)
    for (let i = 0; i < 2; i++) expect((await runCli(['invoices', 'issue'], env)).code).toBe(0)
    await waitFor(
      'every invoice paid and transferred',
      () => {
        const invoices = emulator.invoices()
        return (
          invoices.length >= 24 &&
          invoices.every((i) => i.status === 'paid') &&
          emulator.transfers().length === invoices.length
        )
      },
      30_000,
    )
    await Bun.sleep(500)
    const invoices = emulator.invoices()
    const transfers = emulator.transfers()
    expect(transfers.length).toBe(invoices.length)
    for (const invoice of invoices) {
      expect(transfers.filter((t) => t.externalId === `paybridge-invoice-${invoice.id}`).length).toBe(1)
    }
    const count = (text: string, what: string) => text.split('\n').filter((l) => l.includes(what)).length
    const [webLog, w1, w2, rs] = await Promise.all([
      web.logs(),
      workers[0]!.logs(),
      workers[1]!.logs(),
      relayScheduler.logs(),
    ])
    expect(count(webLog, 'webhook accepted')).toBeGreaterThanOrEqual(invoices.length)
    expect(count(webLog, 'invoice credited')).toBe(0)
    expect(count(w1, 'invoice credited') + count(w2, 'invoice credited')).toBe(invoices.length)
    expect(count(w1, 'transfer created') + count(w2, 'transfer created')).toBe(0)
    expect(count(rs, 'transfer created')).toBe(invoices.length)
    expect(count(rs, 'invoice run issued')).toBe(1)
    for (const log of [w1, w2]) expect(log).not.toContain('listening url=')
  })
})

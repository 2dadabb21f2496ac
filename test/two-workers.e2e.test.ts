import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { type Fauxqs, startFauxqs } from './support/fauxqs.ts'
import { envFor, PROJECT_ID, tempDir } from './support/paybridge.ts'
import { freePort, runCli, spawnPaybridge } from './support/process.ts'
import { waitFor } from './support/wait.ts'

// Two paybridge processes share one SQS queue and one ledger file. Stark Bank's webhooks reach the
// first; both consume the queue and both relay transfers.

describe('two paybridge processes on one SQS queue and one ledger', () => {
  let fauxqs: Fauxqs
  let emulator: StarkBankEmulator
  let dir: ReturnType<typeof tempDir>
  const children: ReturnType<typeof Bun.spawn>[] = []
  let env: Record<string, string>

  beforeAll(async () => {
    fauxqs = await startFauxqs()
    dir = tempDir('paybridge-two-')
    const project = generateKeyPair()
    emulator = await startStarkBankEmulator({
      port: 0,
      projects: { [PROJECT_ID]: project.publicPem },
      payShare: 1,
      payDelayMs: 20,
      webhookRetryDelaysMs: [200, 500, 1_000],
    })
    env = {
      ...(process.env as Record<string, string>),
      ...envFor(emulator, project.privatePem, {
        DATABASE_PATH: join(dir.path, 'ledger.sqlite'),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        SQS_ENDPOINT: fauxqs.endpoint,
        SQS_QUEUE_NAME: 'stark-events-shared',
        LOG_LEVEL: 'info',
      }),
    }
  })

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM')
    await Promise.all(children.map((c) => c.exited))
    await emulator.stop()
    await fauxqs.stop()
    dir.cleanup()
  })

  it('gives every credited invoice exactly one transfer, with both processes doing work', async () => {
    // Webhooks go to the first process from the start (invoices may be paid before it says it listens).
    const firstPort = freePort()
    emulator.setWebhookUrl(`http://127.0.0.1:${firstPort}/webhook/starkbank`)
    for (const n of [1, 2]) {
      const p = spawnPaybridge(
        [],
        { ...env, PORT: n === 1 ? String(firstPort) : '0' },
        join(dir.path, `paybridge-${n}.log`),
      )
      children.push(p.child)
      if (n === 1) expect(await p.port()).toBe(firstPort)
      else await p.port()
    }
    // Both started on an empty ledger: exactly one of them takes the schedule slot. Three more
    // batches come from the CLI, so both workers get a share.
    for (let i = 0; i < 3; i++) {
      const cli = await runCli(['invoices', 'issue'], env)
      if (cli.code !== 0) console.log(cli.stderr)
      expect(cli.code).toBe(0)
    }
    await waitFor(
      'every invoice paid and transferred',
      () => {
        const invoices = emulator.invoices()
        return (
          invoices.length >= 32 &&
          invoices.every((i) => i.status === 'paid') &&
          emulator.transfers().length === invoices.length
        )
      },
      30_000,
    ).catch(async (err) => {
      // On a timeout, say where the flow stopped and what each process logged.
      const invoices = emulator.invoices()
      console.log(
        'invoices',
        invoices.length,
        'paid',
        invoices.filter((i) => i.status === 'paid').length,
        'transfers',
        emulator.transfers().length,
      )
      for (const n of [1, 2])
        console.log(
          (await Bun.file(join(dir.path, `paybridge-${n}.log`)).text())
            .split('\n')
            .filter((l) => !l.includes('INFO  invoice issued'))
            .slice(0, 60)
            .join('\n'),
        )
      throw err
    })
    await Bun.sleep(1_000)
    const invoices = emulator.invoices()
    const transfers = emulator.transfers()
    expect(transfers.length).toBe(invoices.length)
    for (const invoice of invoices) {
      expect(transfers.filter((t) => t.externalId === `paybridge-invoice-${invoice.id}`).length).toBe(1)
    }
    const ledger = openLedger(env.DATABASE_PATH!)
    const runs = ledger.sqlite
      .query("select count(*) as n from scheduler_runs where slot like 'sched:%'")
      .get() as { n: number }
    ledger.close()
    expect(runs.n).toBe(1)
    const logs = await Promise.all([1, 2].map((n) => Bun.file(join(dir.path, `paybridge-${n}.log`)).text()))
    const credited = logs.map(
      (l) => l.split('\n').filter((line) => line.includes('invoice credited; transfer queued')).length,
    )
    expect(credited[0]! + credited[1]!).toBe(invoices.length)
    expect(credited[0]).toBeGreaterThan(0)
    expect(credited[1]).toBeGreaterThan(0)
  })
})

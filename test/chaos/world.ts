import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { SQSClient } from '@aws-sdk/client-sqs'
import { ensureQueue } from '../../src/adapters/sqs/provision.ts'
import { starkBank } from '../../src/adapters/starkbank/bank.ts'
import { generateKeyPair } from '../../src/adapters/starkbank/ecdsa.ts'
import { minTransferLeaseMs } from '../../src/domain/lease.ts'
import {
  type StarkBankEmulator,
  type StarkBankEmulatorOptions,
  startStarkBankEmulator,
} from '../../src/emulator/emulator.ts'
import type { Bank } from '../../src/ports/bank.ts'
import { PROJECT_ID } from '../support/paybridge.ts'
import { type Postgres, startPostgres } from '../support/postgres.ts'
import { type StripeDownstream, startStripeDownstream } from '../support/stripe-downstream.ts'
import { type LedgerReader, postgresReader, sqliteReader } from './ledger-reader.ts'
import { type FauxqsProcess, fauxqsProcess, freePort } from './processes.ts'

// The world paybridge lives in during a chaos run: Stark Bank (the emulator), SQS (fauxqs), the
// Stripe downstream, and its ledger (a SQLite file, or a throwaway PostgreSQL server).

export type LedgerEngine = 'sqlite' | 'postgres'

export const SECRET = 'whsec_paybridge_chaos'
export const STARK_TIMEOUT_MS = 1_000
export const STRIPE_TIMEOUT_MS = 1_000
export const STARK_QUEUE = 'chaos-stark'
export const STRIPE_QUEUE = 'chaos-stripe'
export const fee = (amount: number) => 25 + Math.round(amount * 0.01)

export interface World {
  engine: LedgerEngine
  fauxqs: FauxqsProcess
  sqs: SQSClient
  emulator: StarkBankEmulator
  downstream: StripeDownstream
  /** The run's own Stark Bank client: creates the invoices paybridge is paid for. */
  bank: Bank
  webhookUrl: string
  /** The web port of paybridge's first process. */
  port: number
  signingKeyPem: string
  ledgerPath: string
  postgres: Postgres | undefined
  ledger: LedgerReader
  /** paybridge's environment (every process of the run). */
  env: Record<string, string>
  /** Creates (or finds) an SQS queue with the dead-letter queue paybridge would give it. */
  provision(name: string): Promise<string>
  close(): Promise<void>
}

export async function startWorld(options: {
  dir: string
  engine: LedgerEngine
  volatileSqs?: boolean
  emulator?: Partial<StarkBankEmulatorOptions>
  env?: Record<string, string>
}): Promise<World> {
  const closers: (() => Promise<unknown> | unknown)[] = []
  const close = async () => {
    for (const closer of closers.reverse()) await Promise.resolve(closer()).catch(() => undefined)
  }
  try {
    const sqsDir = join(options.dir, 'fauxqs')
    mkdirSync(sqsDir)
    const fauxqs = fauxqsProcess({ port: freePort(), dataDir: options.volatileSqs ? undefined : sqsDir })
    await fauxqs.start()
    closers.push(() => fauxqs.kill())
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: fauxqs.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    })
    closers.push(() => sqs.destroy())

    const env: Record<string, string> = { ...baseEnv(), ...options.env }
    const provision = (name: string) =>
      ensureQueue({
        client: sqs,
        name,
        fifo: false,
        maxReceiveCount: Number(env.QUEUE_MAX_RECEIVES),
        visibilityTimeoutSeconds: Number(env.QUEUE_VISIBILITY_MS) / 1000,
      })

    const project = generateKeyPair()
    const signing = generateKeyPair()
    const port = freePort()
    const webhookUrl = `http://127.0.0.1:${port}/webhook/starkbank`
    const emulator = await startStarkBankEmulator({
      port: 0,
      projects: { [PROJECT_ID]: project.publicPem },
      payShare: 1,
      payDelayMs: 300,
      fee,
      webhookUrl,
      webhookRetryDelaysMs: [1_000, 3_000, 6_000],
      webhookTimeoutMs: 3_000,
      signingKey: signing.privatePem,
      ...options.emulator,
    })
    closers.push(() => emulator.stop())
    const downstream = await startStripeDownstream({ secret: SECRET })
    closers.push(() => downstream.stop())
    const bank = starkBank({
      projectId: PROJECT_ID,
      privateKeyPem: project.privatePem,
      environment: 'sandbox',
      apiUrl: emulator.url,
      timeoutMs: 10_000,
    })

    const ledgerPath = join(options.dir, 'ledger.sqlite')
    let postgres: Postgres | undefined
    let ledger: LedgerReader = sqliteReader(ledgerPath)
    if (options.engine === 'postgres') {
      const server = await startPostgres()
      postgres = server
      closers.push(() => server.stop())
      const url = await server.createDatabase('paybridge_chaos')
      env.DATABASE_URL = url
      ledger = postgresReader(url)
      closers.push(() => ledger.close())
    }
    Object.assign(env, {
      STARK_PRIVATE_KEY: project.privatePem,
      STARK_API_URL: emulator.url,
      PORT: String(port),
      DATABASE_PATH: ledgerPath,
      SQS_ENDPOINT: fauxqs.endpoint,
      STRIPE_SERVICE_URL: downstream.url,
    })
    return {
      engine: options.engine,
      fauxqs,
      sqs,
      emulator,
      downstream,
      bank,
      webhookUrl,
      port,
      signingKeyPem: signing.privatePem,
      ledgerPath,
      postgres,
      ledger,
      env,
      provision,
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** What every chaos run sets; a scenario overrides some (lease, limits, receives). */
function baseEnv(): Record<string, string> {
  return {
    STARK_PROJECT_ID: PROJECT_ID,
    STARK_TIMEOUT_MS: String(STARK_TIMEOUT_MS),
    HOST: '127.0.0.1',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    SQS_QUEUE_NAME: STARK_QUEUE,
    SQS_RECEIVE_LOOPS: '1',
    STRIPE_QUEUE_NAME: STRIPE_QUEUE,
    STRIPE_WEBHOOK_SECRET: SECRET,
    STRIPE_TIMEOUT_MS: String(STRIPE_TIMEOUT_MS),
    STRIPE_RETRY_BASE_MS: '100',
    STRIPE_RETRY_CAP_MS: '2000',
    RELAY_INTERVAL_MS: '100',
    // The shortest lease configuration accepts (3 Stark Bank calls of STARK_TIMEOUT_MS + 1 s).
    RELAY_LEASE_MS: String(minTransferLeaseMs(STARK_TIMEOUT_MS)),
    QUEUE_VISIBILITY_MS: '3000',
    QUEUE_MAX_RECEIVES: '25',
    // The run creates its invoices itself (not through paybridge's scheduler): pay them all out.
    PAYOUT_SCOPE: 'all',
    LOG_LEVEL: 'info',
  }
}

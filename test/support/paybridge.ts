import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { consoleLog } from '../../src/adapters/console-log.ts'
import type { Ledger } from '../../src/adapters/ledger/sqlite/database.ts'
import { generateKeyPair } from '../../src/adapters/starkbank/ecdsa.ts'
import { type Config, loadConfig } from '../../src/config.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../../src/emulator/emulator.ts'
import { type Paybridge, startPaybridge } from '../../src/paybridge.ts'

export const PROJECT_ID = '5656565656565656'

/** A temp folder removed by `cleanup()`. */
export function tempDir(prefix = 'paybridge-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/** Environment for a paybridge that talks to `emulator` as project PROJECT_ID. */
export function envFor(emulator: StarkBankEmulator, privatePem: string, extra: Record<string, string> = {}) {
  return {
    STARK_PROJECT_ID: PROJECT_ID,
    STARK_PRIVATE_KEY: privatePem,
    STARK_API_URL: emulator.url,
    STARK_TIMEOUT_MS: '1000',
    PORT: '0',
    RELAY_INTERVAL_MS: '50',
    QUEUE_VISIBILITY_MS: '2000',
    LOG_LEVEL: 'error',
    // Child processes log to files: keep the readable form the tests grep.
    LOG_FORMAT: 'text',
    ...extra,
  }
}

export interface Rig {
  emulator: StarkBankEmulator
  paybridge: Paybridge
  /** The SQLite ledger file paybridge writes (throws when the rig's ledger is on PostgreSQL). */
  readonly ledgerFile: Ledger
  config: Config
  signingKey: string
  /** The project's private key paybridge signs Stark Bank requests with. */
  projectKey: string
  webhookUrl: string
  logs: string[]
  stop(): Promise<void>
}

/**
 * The emulator and a paybridge wired to it in-process over real HTTP, with a temp ledger file.
 * The test owns the emulator's signing key so it can sign (or forge) webhooks itself.
 */
export async function startRig(
  options: {
    payShare?: number
    env?: Record<string, string>
    scheduler?: boolean
    gapRetryMs?: number[]
    /** User info put into STARK_API_URL (the emulator ignores it). */
    apiUrlCredentials?: { user: string; password: string }
    /** Run the worker and relay on their worker thread (the CLI's default; off for in-process rigs). */
    workerThread?: Config['workerThread']
    /** Runs after the emulator starts and before paybridge does (to queue faults for start-up). */
    beforeStart?: (emulator: StarkBankEmulator) => void
  } = {},
): Promise<Rig> {
  const dir = tempDir()
  const project = generateKeyPair()
  const signing = generateKeyPair()
  const emulator = await startStarkBankEmulator({
    port: 0,
    projects: { [PROJECT_ID]: project.publicPem },
    payShare: options.payShare ?? 1,
    payDelayMs: 50,
    webhookRetryDelaysMs: [200, 500, 1000],
    signingKey: signing.privatePem,
  })
  const config = loadConfig(
    envFor(emulator, project.privatePem, {
      DATABASE_PATH: join(dir.path, 'ledger.sqlite'),
      ...(options.apiUrlCredentials
        ? {
            STARK_API_URL: emulator.url.replace(
              '://',
              `://${options.apiUrlCredentials.user}:${options.apiUrlCredentials.password}@`,
            ),
          }
        : {}),
      ...options.env,
    }),
  )
  const logs: string[] = []
  const log = consoleLog({ level: 'debug', format: 'json', write: (line) => logs.push(line) })
  options.beforeStart?.(emulator)
  const paybridge = await startPaybridge(config, {
    log,
    scheduler: options.scheduler ?? false,
    // In-process rigs keep the worker and relay on the test's event loop unless a test asks for the
    // thread (test/worker-thread.test.ts); processes started from the CLI run with WORKER_THREAD's default.
    workerThread: options.workerThread ?? 'off',
    ...(options.gapRetryMs ? { gapRetryMs: options.gapRetryMs } : {}),
  })
  const webhookUrl = `http://127.0.0.1:${paybridge.port}/webhook/starkbank`
  emulator.setWebhookUrl(webhookUrl)
  return {
    emulator,
    paybridge,
    get ledgerFile() {
      const file = paybridge.ledger.sqlite
      if (!file) throw new Error('this rig runs its ledger on PostgreSQL: there is no SQLite ledger file')
      return file
    },
    config,
    signingKey: signing.privatePem,
    projectKey: project.privatePem,
    webhookUrl,
    logs,
    async stop() {
      await paybridge.stop()
      await emulator.stop()
      dir.cleanup()
    },
  }
}

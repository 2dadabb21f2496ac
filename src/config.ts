import { readFileSync } from 'node:fs'
import { Cron } from 'croner'
import * as v from 'valibot'
import { KeyFormatError, starkPrivateKeyPem } from './adapters/starkbank/ecdsa.ts'
import { PAYOUT_SCOPES, type PayoutScope } from './domain/bank-event.ts'
import {
  LEDGER_STEPS_MS,
  minForwardLeaseMs,
  minTransferLeaseMs,
  STARK_CALLS_PER_TRANSFER,
} from './domain/lease.ts'
import { isValidTaxId } from './domain/tax-id.ts'
import type { Destination } from './domain/transfer.ts'

// The only reader of process.env. Every problem is listed with its variable; secrets are never echoed.

const int = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d+$/, `must be a whole number ≥ ${min}`),
    v.transform(Number),
    v.minValue(min, `must be ≥ ${min}`),
    v.maxValue(max, `must be ≤ ${max}`),
  )
/** Whether croner takes the pattern (5 or 6 fields, names, ranges); checked here so start-up refuses it. */
function isCron(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true }).stop()
    return true
  } catch {
    return false
  }
}
const cronProblem = (issue: { input: unknown }) =>
  `not a cron pattern ("${String(issue.input)}"); e.g. "0 */3 * * *" (minute hour day month weekday: every 3 h)`

const share = v.pipe(
  v.string(),
  v.transform(Number),
  v.number('must be a number'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(1, 'must be ≤ 1'),
)
const url = v.pipe(v.string(), v.trim(), v.url('must be a URL like http://127.0.0.1:9100'))
const nonEmpty = v.pipe(v.string(), v.trim(), v.nonEmpty('must not be empty'))

const EnvSchema = v.object({
  STARK_PROJECT_ID: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^\d+$/, 'must be the numeric project id')),
  ),
  STARK_PRIVATE_KEY: v.optional(v.pipe(v.string(), v.includes('PRIVATE KEY', 'must be a PEM private key'))),
  STARK_PRIVATE_KEY_FILE: v.optional(nonEmpty),
  STARK_ENVIRONMENT: v.optional(
    v.picklist(['sandbox', 'production'], 'must be sandbox or production'),
    'sandbox',
  ),
  STARK_API_URL: v.optional(url),
  STARK_TIMEOUT_MS: v.optional(int(100, 120_000), '15000'),
  PORT: v.optional(int(0, 65535), '3000'),
  HOST: v.optional(nonEmpty, '127.0.0.1'),
  DATABASE_PATH: v.optional(nonEmpty, 'data/paybridge.sqlite'),
  DATABASE_URL: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres://… URL')),
  ),
  INVOICE_SCHEDULE: v.optional(v.pipe(nonEmpty, v.check(isCron, cronProblem)), '0 */3 * * *'),
  INVOICE_RESUME_AFTER_UNKNOWN_MS: v.optional(int(0, 86_400_000), '300000'),
  TRANSFER_NAME: v.optional(nonEmpty, 'Stark Bank S.A.'),
  // The destination as Stark Bank's Transfer takes it: a CPF or CNPJ; a 3-digit bank code (TED) or an
  // 8-digit ISPB (Pix); branch and account in digits, with "-" before a verifier digit.
  TRANSFER_TAX_ID: v.optional(
    v.pipe(nonEmpty, v.check(isValidTaxId, 'must be a valid CPF or CNPJ (check digits included)')),
    '20.018.183/0001-80',
  ),
  TRANSFER_BANK_CODE: v.optional(
    v.pipe(nonEmpty, v.regex(/^(\d{3}|\d{8})$/, 'must be a 3-digit bank code or an 8-digit ISPB')),
    '20018183',
  ),
  TRANSFER_BRANCH_CODE: v.optional(
    v.pipe(
      nonEmpty,
      v.regex(/^\d{1,5}(-\d)?$/, 'must be the branch digits, with "-" before a verifier digit'),
    ),
    '0001',
  ),
  TRANSFER_ACCOUNT_NUMBER: v.optional(
    v.pipe(
      nonEmpty,
      v.regex(/^\d{1,20}(-\d)?$/, 'must be the account digits, with "-" before a verifier digit'),
    ),
    '6341320293482496',
  ),
  TRANSFER_ACCOUNT_TYPE: v.optional(
    v.picklist(['checking', 'savings', 'salary', 'payment'], 'must be checking, savings, salary or payment'),
    'payment',
  ),
  TRANSFER_MAX_AMOUNT: v.optional(int(1, Number.MAX_SAFE_INTEGER), '1000000'),
  TRANSFER_MAX_DAILY_AMOUNT: v.optional(int(1, Number.MAX_SAFE_INTEGER), '100000000'),
  TRANSFERS_PAUSED: v.optional(v.picklist(['true', 'false'], 'must be true or false'), 'false'),
  PAYOUT_SCOPE: v.optional(v.picklist(PAYOUT_SCOPES, 'must be issued or all'), 'issued'),
  QUEUE_VISIBILITY_MS: v.optional(int(1_000, 43_200_000), '30000'),
  QUEUE_MAX_RECEIVES: v.optional(int(1, 1000), '5'),
  WORKER_CONCURRENCY: v.optional(int(1, 500), '32'),
  RELAY_INTERVAL_MS: v.optional(int(10, 600_000), '500'),
  RELAY_LEASE_MS: v.optional(int(1_000, 3_600_000), '60000'),
  EMULATOR_PAY_SHARE: v.optional(share, '0.8'),
  EMULATOR_PAY_DELAY_MS: v.optional(int(0, 3_600_000), '1500'),
  SQS_QUEUE_URL: v.optional(url),
  SQS_QUEUE_NAME: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^[\w-]{1,75}(\.fifo)?$/, 'must be an SQS queue name')),
  ),
  SQS_ENDPOINT: v.optional(url),
  SQS_RECEIVE_LOOPS: v.optional(int(1, 20), '2'),
  AWS_REGION: v.optional(nonEmpty),
  STRIPE_SERVICE_URL: v.optional(url),
  STRIPE_WEBHOOK_SECRET: v.optional(nonEmpty),
  STRIPE_QUEUE_URL: v.optional(url),
  STRIPE_QUEUE_NAME: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^[\w-]{1,75}(\.fifo)?$/, 'must be an SQS queue name')),
  ),
  STRIPE_TIMEOUT_MS: v.optional(int(100, 120_000), '10000'),
  STRIPE_CONCURRENCY: v.optional(int(1, 256), '8'),
  STRIPE_RETRY_BASE_MS: v.optional(int(10, 3_600_000), '1000'),
  STRIPE_RETRY_CAP_MS: v.optional(int(10, 86_400_000), '300000'),
  STRIPE_RETRY_FOR_MS: v.optional(int(0, 30 * 86_400_000), '86400000'),
  LOG_FORMAT: v.optional(v.picklist(['auto', 'text', 'json'], 'must be auto, text or json'), 'auto'),
  ADMIN_TOKEN: v.optional(v.pipe(v.string(), v.trim(), v.minLength(16, 'must be at least 16 characters'))),
  LOG_LEVEL: v.optional(
    v.picklist(['debug', 'info', 'warn', 'error'], 'must be debug, info, warn or error'),
    'info',
  ),
})

const DESTINATION_VARS = [
  'TRANSFER_NAME',
  'TRANSFER_TAX_ID',
  'TRANSFER_BANK_CODE',
  'TRANSFER_BRANCH_CODE',
  'TRANSFER_ACCOUNT_NUMBER',
  'TRANSFER_ACCOUNT_TYPE',
] as const

export interface StarkCredentials {
  projectId: string
  privateKeyPem: string
  environment: 'sandbox' | 'production'
  /** Base URL the SDK's /v2/... paths go to instead of Stark Bank's hosts (emulators, proxies, tests). */
  apiUrl: string | undefined
}

export interface Config {
  /** Absent: paybridge runs its embedded Stark Bank emulator. */
  stark: StarkCredentials | undefined
  starkTimeoutMs: number
  port: number
  host: string
  databasePath: string
  /** The ledger on PostgreSQL (`postgres://…`) instead of the SQLite file; its queues are then on SQS. */
  databaseUrl: string | undefined
  invoiceSchedule: string
  /** After an invoice create whose outcome is unknown, how long a resume only looks up (lists lag). */
  invoiceResumeAfterUnknownMs: number
  destination: Destination
  /** Cents. Over these, transfers wait for `ledger approve`. */
  transferLimits: { maxPerTransfer: number; maxPerDay: number }
  /** Hold every transfer in the outbox (nothing is lost; they go when unpaused). */
  transfersPaused: boolean
  /** `issued`: pay out only invoices paybridge issued; `all`: every credited invoice of the workspace. */
  payoutScope: PayoutScope
  queue: { visibilityMs: number; maxReceives: number }
  workerConcurrency: number
  relayIntervalMs: number
  /** How long a relay owns claimed outbox rows; after a crash they are sent again once it runs out. */
  relayLeaseMs: number
  emulator: { payShare: number; payDelayMs: number }
  /** From AWS_REGION and SQS_ENDPOINT; credentials come from the AWS SDK's default chain. */
  aws: { region: string; endpoint: string | undefined } | undefined
  /** Absent: the embedded SQLite queue. */
  sqs: SqsConfig | undefined
  /** Absent: the Stripe forwarder is off. */
  stripe: StripeConfig | undefined
  /** The Stripe events queue on SQS (absent: embedded), also for `stripe enqueue` without a service. */
  stripeQueue: { url: string } | { name: string } | undefined
  /** Bearer token for /admin; absent: no admin surface at all. Never printed. */
  adminToken: string | undefined
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  /** `auto`: readable text on a terminal, JSON lines otherwise (files, journald, collectors). */
  logFormat: 'auto' | 'text' | 'json'
}

export interface SqsConfig {
  /** Region from AWS_REGION; credentials come from the AWS SDK's default chain. */
  region: string
  endpoint: string | undefined
  /** The Stark Bank events queue: a URL, or a name paybridge creates (with its DLQ) if missing. */
  queue: { url: string } | { name: string }
  receiveLoops: number
}

export interface StripeConfig {
  serviceUrl: string
  /** The secret the downstream verifies `Stripe-Signature` with. */
  webhookSecret: string
  /** On SQS when configured (URL or name), else the embedded queue named `stripe-events`. */
  queue: { url: string } | { name: string } | undefined
  timeoutMs: number
  concurrency: number
  retry: { baseMs: number; capMs: number; forMs: number }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

/**
 * A relay lease must outlast every call made under it (see domain/lease.ts). The transfer relay starts
 * a Stark Bank call only while the rest of its lease covers the call's timeout, so a rejected batch
 * split into single sends stops there and the rest wait for the next claim; what must fit is the
 * calls of one transfer. The Stripe forwarder makes one POST per claimed forward.
 */
function leaseProblems(defined: Record<string, string | undefined>): string[] {
  // Each value on its own, so these rules are checked even when other variables are wrong.
  const value = (name: 'RELAY_LEASE_MS' | 'STARK_TIMEOUT_MS' | 'STRIPE_TIMEOUT_MS') => {
    const parsed = v.safeParse(EnvSchema.entries[name], defined[name])
    return parsed.success ? parsed.output : undefined
  }
  const [lease, starkTimeout, stripeTimeout] = [
    value('RELAY_LEASE_MS'),
    value('STARK_TIMEOUT_MS'),
    value('STRIPE_TIMEOUT_MS'),
  ]
  if (lease === undefined) return []
  const problems: string[] = []
  const stark = starkTimeout === undefined ? 0 : minTransferLeaseMs(starkTimeout)
  if (lease < stark) {
    problems.push(
      `RELAY_LEASE_MS, STARK_TIMEOUT_MS: the lease (${lease} ms) must be at least ${stark} ms, ` +
        `${STARK_CALLS_PER_TRANSFER} × STARK_TIMEOUT_MS + ${LEDGER_STEPS_MS} ms: one transfer may need ` +
        `${STARK_CALLS_PER_TRANSFER} Stark Bank calls in a row (the lookup of an earlier attempt, the send, ` +
        'the lookup after a duplicate refusal) after the claim and before its writes; the relay starts no ' +
        'call its lease cannot cover, because a lease that ends while a call is in flight lets another ' +
        'relay send the same transfers again, so a shorter lease could never send such a transfer',
    )
  }
  const stripe = stripeTimeout === undefined ? 0 : minForwardLeaseMs(stripeTimeout)
  if (defined.STRIPE_SERVICE_URL && lease < stripe) {
    problems.push(
      `RELAY_LEASE_MS, STRIPE_TIMEOUT_MS: the lease (${lease} ms) must be at least ${stripe} ms, ` +
        'STRIPE_TIMEOUT_MS + 1000 ms for writing the outcome: a lease that ends while a POST is in flight ' +
        'lets another forwarder POST the same event again',
    )
  }
  return problems
}

/** Parses the environment once. Throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  )
  const parsed = v.safeParse(EnvSchema, defined)
  const problems = parsed.success ? [] : parsed.issues.map((i) => `${v.getDotPath(i) ?? '?'}: ${i.message}`)

  // Cross-field rules are checked on the raw values too, so one run lists every problem.
  const projectId = defined.STARK_PROJECT_ID
  const keyFile = defined.STARK_PRIVATE_KEY_FILE
  // A PEM in one env line usually carries literal "\n" escapes.
  let privateKeyPem = defined.STARK_PRIVATE_KEY?.replace(/\\n/g, '\n')
  if (privateKeyPem && keyFile) {
    problems.push('STARK_PRIVATE_KEY, STARK_PRIVATE_KEY_FILE: set one, not both')
  } else if (keyFile) {
    try {
      privateKeyPem = readFileSync(keyFile, 'utf8')
      if (!privateKeyPem.includes('PRIVATE KEY'))
        problems.push('STARK_PRIVATE_KEY_FILE: file holds no PEM private key')
    } catch (err) {
      problems.push(`STARK_PRIVATE_KEY_FILE: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  if (privateKeyPem?.includes('PRIVATE KEY')) {
    try {
      privateKeyPem = starkPrivateKeyPem(privateKeyPem)
    } catch (err) {
      if (!(err instanceof KeyFormatError)) throw err
      problems.push(`${keyFile ? 'STARK_PRIVATE_KEY_FILE' : 'STARK_PRIVATE_KEY'}: ${err.message}`)
    }
  }
  if (projectId && !privateKeyPem && !keyFile) {
    problems.push('STARK_PRIVATE_KEY: required when STARK_PROJECT_ID is set (or STARK_PRIVATE_KEY_FILE)')
  }
  if (!projectId && privateKeyPem) {
    problems.push('STARK_PROJECT_ID: required when a Stark Bank private key is given')
  }
  if (defined.STARK_ENVIRONMENT === 'production' && !(projectId || privateKeyPem || keyFile)) {
    problems.push(
      'STARK_PROJECT_ID, STARK_PRIVATE_KEY: required when STARK_ENVIRONMENT=production (without them paybridge would run its local emulator and move no real money)',
    )
  }
  problems.push(...leaseProblems(defined))
  if (defined.STARK_ENVIRONMENT === 'production') {
    const unset = DESTINATION_VARS.filter((name) => !defined[name])
    if (unset.length > 0) {
      problems.push(
        `${unset.join(', ')}: must be set explicitly when STARK_ENVIRONMENT=production (no default destination for real money)`,
      )
    }
  }
  if (defined.SQS_QUEUE_URL && defined.SQS_QUEUE_NAME)
    problems.push('SQS_QUEUE_URL, SQS_QUEUE_NAME: set one, not both')
  if ((defined.SQS_QUEUE_URL || defined.SQS_QUEUE_NAME) && !defined.AWS_REGION) {
    problems.push('AWS_REGION: required when SQS_QUEUE_URL or SQS_QUEUE_NAME is set')
  }
  if (defined.STRIPE_QUEUE_URL && defined.STRIPE_QUEUE_NAME) {
    problems.push('STRIPE_QUEUE_URL, STRIPE_QUEUE_NAME: set one, not both')
  }
  if (defined.STRIPE_SERVICE_URL && !defined.STRIPE_WEBHOOK_SECRET) {
    problems.push('STRIPE_WEBHOOK_SECRET: required when STRIPE_SERVICE_URL is set')
  }
  if ((defined.STRIPE_QUEUE_URL || defined.STRIPE_QUEUE_NAME) && !defined.AWS_REGION) {
    problems.push('AWS_REGION: required when STRIPE_QUEUE_URL or STRIPE_QUEUE_NAME is set')
  }
  if (defined.DATABASE_URL && !defined.SQS_QUEUE_URL && !defined.SQS_QUEUE_NAME) {
    problems.push(
      'SQS_QUEUE_URL or SQS_QUEUE_NAME: required with DATABASE_URL (the embedded queue lives in SQLite)',
    )
  }
  if (
    defined.DATABASE_URL &&
    defined.STRIPE_SERVICE_URL &&
    !defined.STRIPE_QUEUE_URL &&
    !defined.STRIPE_QUEUE_NAME
  ) {
    problems.push('STRIPE_QUEUE_URL or STRIPE_QUEUE_NAME: required with DATABASE_URL and STRIPE_SERVICE_URL')
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError([...new Set(problems)])
  const e = parsed.output

  return {
    stark:
      e.STARK_PROJECT_ID && privateKeyPem
        ? {
            projectId: e.STARK_PROJECT_ID,
            privateKeyPem,
            environment: e.STARK_ENVIRONMENT,
            apiUrl: e.STARK_API_URL?.replace(/\/+$/, ''),
          }
        : undefined,
    starkTimeoutMs: e.STARK_TIMEOUT_MS,
    port: e.PORT,
    host: e.HOST,
    databasePath: e.DATABASE_PATH,
    databaseUrl: e.DATABASE_URL,
    invoiceSchedule: e.INVOICE_SCHEDULE,
    invoiceResumeAfterUnknownMs: e.INVOICE_RESUME_AFTER_UNKNOWN_MS,
    destination: {
      name: e.TRANSFER_NAME,
      taxId: e.TRANSFER_TAX_ID,
      bankCode: e.TRANSFER_BANK_CODE,
      branchCode: e.TRANSFER_BRANCH_CODE,
      accountNumber: e.TRANSFER_ACCOUNT_NUMBER,
      accountType: e.TRANSFER_ACCOUNT_TYPE,
    },
    transferLimits: { maxPerTransfer: e.TRANSFER_MAX_AMOUNT, maxPerDay: e.TRANSFER_MAX_DAILY_AMOUNT },
    transfersPaused: e.TRANSFERS_PAUSED === 'true',
    payoutScope: e.PAYOUT_SCOPE,
    queue: { visibilityMs: e.QUEUE_VISIBILITY_MS, maxReceives: e.QUEUE_MAX_RECEIVES },
    workerConcurrency: e.WORKER_CONCURRENCY,
    relayIntervalMs: e.RELAY_INTERVAL_MS,
    relayLeaseMs: e.RELAY_LEASE_MS,
    emulator: { payShare: e.EMULATOR_PAY_SHARE, payDelayMs: e.EMULATOR_PAY_DELAY_MS },
    aws: e.AWS_REGION ? { region: e.AWS_REGION, endpoint: e.SQS_ENDPOINT } : undefined,
    sqs:
      e.AWS_REGION && (e.SQS_QUEUE_URL || e.SQS_QUEUE_NAME)
        ? {
            region: e.AWS_REGION,
            endpoint: e.SQS_ENDPOINT,
            queue: e.SQS_QUEUE_URL ? { url: e.SQS_QUEUE_URL } : { name: e.SQS_QUEUE_NAME ?? '' },
            receiveLoops: e.SQS_RECEIVE_LOOPS,
          }
        : undefined,
    stripeQueue: e.STRIPE_QUEUE_URL
      ? { url: e.STRIPE_QUEUE_URL }
      : e.STRIPE_QUEUE_NAME
        ? { name: e.STRIPE_QUEUE_NAME }
        : undefined,
    stripe:
      e.STRIPE_SERVICE_URL && e.STRIPE_WEBHOOK_SECRET
        ? {
            serviceUrl: e.STRIPE_SERVICE_URL.replace(/\/+$/, ''),
            webhookSecret: e.STRIPE_WEBHOOK_SECRET,
            queue: e.STRIPE_QUEUE_URL
              ? { url: e.STRIPE_QUEUE_URL }
              : e.STRIPE_QUEUE_NAME
                ? { name: e.STRIPE_QUEUE_NAME }
                : undefined,
            timeoutMs: e.STRIPE_TIMEOUT_MS,
            concurrency: e.STRIPE_CONCURRENCY,
            retry: {
              baseMs: e.STRIPE_RETRY_BASE_MS,
              capMs: e.STRIPE_RETRY_CAP_MS,
              forMs: e.STRIPE_RETRY_FOR_MS,
            },
          }
        : undefined,
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
  }
}

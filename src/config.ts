import * as v from 'valibot'
import { ConfigError } from './config/config-error.ts'
import { crossFieldRules } from './config/env-rules.ts'
import { EnvSchema } from './config/env-schema.ts'
import { type LocalStarkBankBehaviour, localStarkBankBehaviour } from './config/local-stark-bank.ts'
import type { PayoutScope } from './domain/bank-event.ts'
import type { Destination } from './domain/transfer.ts'

// The only reader of the environment (main.ts passes process.env). Every problem is listed with its
// variable; secrets are never echoed. The variables and their rules: src/config/.

export { ConfigError } from './config/config-error.ts'
export { type LocalStarkBankConfig, loadLocalStarkBankConfig } from './config/local-stark-bank.ts'

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
  /** Where Stark Bank reaches paybridge (its webhook is here + /webhook/starkbank); for `doctor` and `webhooks register`. */
  publicUrl: string | undefined
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
  /**
   * With the web role in the same process, the worker and relay run on a worker thread of their own:
   * `on`, `off`, or `auto` (on where the events queue is on SQS; see `onWorkerThread` in paybridge.ts).
   */
  workerThread: 'auto' | 'on' | 'off'
  relayIntervalMs: number
  /** How long a relay owns claimed outbox rows; after a crash they are sent again once it runs out. */
  relayLeaseMs: number
  emulator: LocalStarkBankBehaviour
  /** From AWS_REGION and SQS_ENDPOINT; credentials come from the AWS SDK's default chain. */
  aws: { region: string; endpoint: string | undefined } | undefined
  /** Absent: the embedded SQLite queue. */
  sqs: SqsConfig | undefined
  /** Absent: the Stripe forwarder is off. */
  stripe: StripeConfig | undefined
  /** How the forwarder delivers (timeout, concurrency, retries), also to the local stand-in. */
  stripeDelivery: StripeDelivery
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

export type StripeDelivery = Pick<StripeConfig, 'timeoutMs' | 'concurrency' | 'retry'>

/** Parses the environment once. Throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  ) as Record<string, string>
  const parsed = v.safeParse(EnvSchema, defined)
  const problems = parsed.success ? [] : parsed.issues.map((i) => `${v.getDotPath(i) ?? '?'}: ${i.message}`)
  const rules = crossFieldRules(defined)
  problems.push(...rules.problems)
  const privateKeyPem = rules.privateKeyPem
  if (!parsed.success || problems.length > 0) throw new ConfigError([...new Set(problems)])
  const e = parsed.output
  const stripeDelivery: StripeDelivery = {
    timeoutMs: e.STRIPE_TIMEOUT_MS,
    concurrency: e.STRIPE_CONCURRENCY,
    retry: { baseMs: e.STRIPE_RETRY_BASE_MS, capMs: e.STRIPE_RETRY_CAP_MS, forMs: e.STRIPE_RETRY_FOR_MS },
  }

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
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
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
    workerThread: e.WORKER_THREAD,
    relayIntervalMs: e.RELAY_INTERVAL_MS,
    relayLeaseMs: e.RELAY_LEASE_MS,
    emulator: localStarkBankBehaviour(e),
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
            ...stripeDelivery,
          }
        : undefined,
    stripeDelivery,
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
  }
}

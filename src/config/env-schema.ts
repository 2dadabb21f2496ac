import { Cron } from 'croner'
import * as v from 'valibot'
import { PAYOUT_SCOPES } from '../domain/bank-event.ts'
import { isValidTaxId } from '../domain/tax-id.ts'
import { LOCAL_STARK_BANK_BEHAVIOUR } from './local-stark-bank.ts'
import { int, nonEmpty, url } from './values.ts'

// paybridge's variables, each with its rule and default; cross-field rules are in env-rules.ts.

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

export const EnvSchema = v.object({
  STARK_PROJECT_ID: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^\d+$/, 'must be the numeric project id')),
  ),
  STARK_PRIVATE_KEY: v.optional(v.pipe(v.string(), v.includes('PRIVATE KEY', 'must be a PEM private key'))),
  STARK_PRIVATE_KEY_FILE: v.optional(nonEmpty),
  STARK_ENVIRONMENT: v.optional(
    v.picklist(['sandbox', 'production'], 'must be sandbox or production'),
    'sandbox',
  ),
  STARK_API_URL: v.optional(url()),
  STARK_TIMEOUT_MS: v.optional(int(100, 120_000), '15000'),
  PORT: v.optional(int(0, 65535), '3000'),
  HOST: v.optional(nonEmpty, '127.0.0.1'),
  PUBLIC_URL: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.url('must be the URL Stark Bank reaches paybridge at, like https://paybridge.example.com'),
      v.regex(/^https?:\/\/[^?#]+$/, 'must be an http(s) URL without a query or fragment'),
    ),
  ),
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
  WORKER_THREAD: v.optional(v.picklist(['auto', 'on', 'off'], 'must be auto, on or off'), 'auto'),
  RELAY_LEASE_MS: v.optional(int(1_000, 3_600_000), '60000'),
  ...LOCAL_STARK_BANK_BEHAVIOUR,
  SQS_QUEUE_URL: v.optional(url()),
  SQS_QUEUE_NAME: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^[\w-]{1,75}(\.fifo)?$/, 'must be an SQS queue name')),
  ),
  SQS_ENDPOINT: v.optional(url()),
  SQS_RECEIVE_LOOPS: v.optional(int(1, 20), '2'),
  AWS_REGION: v.optional(nonEmpty),
  STRIPE_SERVICE_URL: v.optional(url()),
  STRIPE_WEBHOOK_SECRET: v.optional(nonEmpty),
  STRIPE_QUEUE_URL: v.optional(url()),
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

export const DESTINATION_VARS = [
  'TRANSFER_NAME',
  'TRANSFER_TAX_ID',
  'TRANSFER_BANK_CODE',
  'TRANSFER_BRANCH_CODE',
  'TRANSFER_ACCOUNT_NUMBER',
  'TRANSFER_ACCOUNT_TYPE',
] as const

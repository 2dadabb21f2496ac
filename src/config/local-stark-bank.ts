import * as v from 'valibot'
import { ConfigError } from './config-error.ts'
import { int, nonEmpty, share as shareValue, url } from './values.ts'

// The local Stark Bank's variables: how it pays (the embedded one inside paybridge, and the standalone
// `emulator` command), and where the standalone one listens, calls back and whom it lets in.

const share = (byDefault: string) => v.optional(shareValue, byDefault)

/**
 * How the local Stark Bank pays new invoices and settles the transfers made to it; read by loadConfig
 * too (the embedded emulator).
 */
export const LOCAL_STARK_BANK_BEHAVIOUR = {
  EMULATOR_PAY_SHARE: share('0.8'),
  EMULATOR_PAY_DELAY_MS: v.optional(int(0, 3_600_000), '1500'),
  EMULATOR_TRANSFER_FAIL_SHARE: share('0.1'),
  EMULATOR_TRANSFER_SETTLE_MS: v.optional(int(0, 3_600_000), '1000'),
}

/** What the local Stark Bank does on its own: pays invoices, then moves each transfer on. */
export interface LocalStarkBankBehaviour {
  payShare: number
  payDelayMs: number
  /**
   * Each created transfer goes `processing` after half of the settle time and ends `success`, or
   * `failed` for `failShare` of them, after all of it; each step a signed `transfer` webhook.
   */
  transferEvents: { failShare: number; processingAfterMs: number; settledAfterMs: number }
}

export function localStarkBankBehaviour(e: {
  EMULATOR_PAY_SHARE: number
  EMULATOR_PAY_DELAY_MS: number
  EMULATOR_TRANSFER_FAIL_SHARE: number
  EMULATOR_TRANSFER_SETTLE_MS: number
}): LocalStarkBankBehaviour {
  return {
    payShare: e.EMULATOR_PAY_SHARE,
    payDelayMs: e.EMULATOR_PAY_DELAY_MS,
    transferEvents: {
      failShare: e.EMULATOR_TRANSFER_FAIL_SHARE,
      processingAfterMs: Math.floor(e.EMULATOR_TRANSFER_SETTLE_MS / 2),
      settledAfterMs: e.EMULATOR_TRANSFER_SETTLE_MS,
    },
  }
}

const StandaloneSchema = v.object({
  ...LOCAL_STARK_BANK_BEHAVIOUR,
  EMULATOR_PORT: v.optional(int(0, 65_535), '9100'),
  EMULATOR_WEBHOOK_URL: v.optional(url('http://127.0.0.1:3000/webhook/starkbank')),
  EMULATOR_PROJECT_ID: v.optional(nonEmpty),
  EMULATOR_PROJECT_PUBLIC_KEY: v.optional(
    v.pipe(v.string(), v.includes('BEGIN PUBLIC KEY', 'must be a PEM public key')),
  ),
})

/** The standalone emulator (`bun run src/main.ts emulator`); same shape as its start options. */
export interface LocalStarkBankConfig extends LocalStarkBankBehaviour {
  /** 0: any free port. */
  port: number
  /** Where paid-invoice and transfer events are POSTed. */
  webhookUrl?: string
  /** The one project allowed to call (id → public PEM); absent: unsigned requests from anyone. */
  projects?: Record<string, string>
}

/** Parses the standalone emulator's variables. Throws ConfigError listing every problem. */
export function loadLocalStarkBankConfig(env: Record<string, string | undefined>): LocalStarkBankConfig {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  )
  const parsed = v.safeParse(StandaloneSchema, defined)
  const problems = parsed.success ? [] : parsed.issues.map((i) => `${v.getDotPath(i) ?? '?'}: ${i.message}`)
  if ((defined.EMULATOR_PROJECT_ID === undefined) !== (defined.EMULATOR_PROJECT_PUBLIC_KEY === undefined)) {
    problems.push('EMULATOR_PROJECT_ID, EMULATOR_PROJECT_PUBLIC_KEY: set both or neither')
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems)
  const e = parsed.output
  // A PEM in one env line usually carries literal "\n" escapes.
  const publicPem = e.EMULATOR_PROJECT_PUBLIC_KEY?.replace(/\\n/g, '\n')
  return {
    port: e.EMULATOR_PORT,
    ...(e.EMULATOR_WEBHOOK_URL ? { webhookUrl: e.EMULATOR_WEBHOOK_URL } : {}),
    ...localStarkBankBehaviour(e),
    ...(e.EMULATOR_PROJECT_ID && publicPem ? { projects: { [e.EMULATOR_PROJECT_ID]: publicPem } } : {}),
  }
}

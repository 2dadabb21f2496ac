import * as v from 'valibot'
import { type StarkBankEmulator, type StarkBankEmulatorOptions, startStarkBankEmulator } from './server.ts'

const number = (min: number, max = Number.POSITIVE_INFINITY) =>
  v.pipe(v.string(), v.trim(), v.transform(Number), v.number(), v.minValue(min), v.maxValue(max))

const EnvSchema = v.pipe(
  v.object({
    EMULATOR_PORT: v.optional(v.pipe(number(0, 65_535), v.integer()), '9100'),
    EMULATOR_WEBHOOK_URL: v.optional(v.pipe(v.string(), v.url())),
    EMULATOR_PAY_SHARE: v.optional(number(0, 1)),
    EMULATOR_PAY_DELAY_MS: v.optional(v.pipe(number(0), v.integer())),
    EMULATOR_PROJECT_ID: v.optional(v.pipe(v.string(), v.minLength(1))),
    EMULATOR_PROJECT_PUBLIC_KEY: v.optional(v.pipe(v.string(), v.includes('BEGIN PUBLIC KEY'))),
  }),
  v.check(
    (env) => (env.EMULATOR_PROJECT_ID === undefined) === (env.EMULATOR_PROJECT_PUBLIC_KEY === undefined),
    'EMULATOR_PROJECT_ID and EMULATOR_PROJECT_PUBLIC_KEY go together',
  ),
)

/**
 * Emulator options from a plain environment object (the caller reads `process.env`):
 * - `EMULATOR_PORT` (default 9100; 0 = any free port)
 * - `EMULATOR_WEBHOOK_URL` where paid-invoice events are POSTed
 * - `EMULATOR_PAY_SHARE` 0..1 (default 0.8), `EMULATOR_PAY_DELAY_MS` (default 1500)
 * - `EMULATOR_PROJECT_ID` + `EMULATOR_PROJECT_PUBLIC_KEY` (PEM, `\n` escapes allowed): the one project
 *   allowed to call; without them the emulator accepts unsigned requests from anyone.
 * Throws listing every problem.
 */
export function emulatorOptionsFromEnv(env: Record<string, string | undefined>): StarkBankEmulatorOptions {
  const result = v.safeParse(EnvSchema, env)
  if (!result.success) {
    const problems = result.issues.map((i) => `${v.getDotPath(i) ?? 'env'}: ${i.message}`)
    throw new Error(`Invalid emulator environment:\n  ${problems.join('\n  ')}`)
  }
  const e = result.output
  const publicPem = e.EMULATOR_PROJECT_PUBLIC_KEY?.replace(/\\n/g, '\n')
  return {
    port: e.EMULATOR_PORT,
    ...(e.EMULATOR_WEBHOOK_URL ? { webhookUrl: e.EMULATOR_WEBHOOK_URL } : {}),
    ...(e.EMULATOR_PAY_SHARE === undefined ? {} : { payShare: e.EMULATOR_PAY_SHARE }),
    ...(e.EMULATOR_PAY_DELAY_MS === undefined ? {} : { payDelayMs: e.EMULATOR_PAY_DELAY_MS }),
    ...(e.EMULATOR_PROJECT_ID && publicPem ? { projects: { [e.EMULATOR_PROJECT_ID]: publicPem } } : {}),
  }
}

/**
 * Starts the emulator from environment variables (see `emulatorOptionsFromEnv`) and prints where it
 * listens and its webhook public key. For `bun run src/main.ts emulator`.
 */
export async function runStandaloneEmulator(
  env: Record<string, string | undefined>,
  print: (line: string) => void = console.log,
): Promise<StarkBankEmulator> {
  const emulator = await startStarkBankEmulator(emulatorOptionsFromEnv(env))
  print(`Stark Bank emulator listening on ${emulator.url} (point starkBank({ apiUrl }) at it)`)
  print(`webhook signing public key:\n${emulator.publicKeyPem}`)
  return emulator
}

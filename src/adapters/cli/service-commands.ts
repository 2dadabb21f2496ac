import { generateKeyPair } from '../starkbank/ecdsa.ts'
import type { Command } from './command.ts'

// The long-running commands (paybridge itself, the standalone emulator) and the key pair a Stark Bank
// project is created with.

export const runCommand: Command = {
  name: 'run',
  arguments: '[role …]',
  positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  summary: 'run paybridge (also with no command, or with roles only: `bun run src/main.ts web relay`)',
  options: {},
  notes: `roles: all (the default) | web | worker | relay | scheduler: webhook server, worker, transfer
relay, invoice scheduler; run only some to scale them apart (the worker role also runs the Stripe
forwarder and the hourly gap fill; single roles need Stark Bank credentials or STARK_API_URL)`,
  async run({ positionals: roles }, ctx) {
    const config = ctx.config()
    const log = ctx.log()
    const known = ctx.roots.roles
    const unknown = roles.filter((r) => !known.includes(r))
    if (unknown.length > 0) {
      ctx.err(`paybridge: unknown role(s) ${unknown.join(', ')}; roles: ${known.join(', ')}\n`)
      return 2
    }
    if (!config.stark && roles.some((r) => r !== 'all')) {
      ctx.err(
        'paybridge: running single roles needs Stark Bank credentials (or STARK_API_URL to a shared emulator):\n' +
          'each process would otherwise start its own embedded emulator.\n',
      )
      return 2
    }
    // Listen for the stop signal before starting: one that arrives mid-start still drains, once started.
    const stopSignal = ctx.stopSignal().then((signal) => log.info('signal received', { signal }))
    const paybridge = await ctx.roots.startPaybridge(config, roles.length > 0 ? roles : ['all'], log)
    // A dead worker thread stops the process as an uncaught error would, for its supervisor to restart.
    const failure = await Promise.race([stopSignal.then(() => undefined), paybridge.failed])
    await paybridge.stop()
    if (failure === undefined) return 0
    ctx.err(`paybridge: ${failure}\n`)
    return 1
  },
}

export const emulatorCommand: Command = {
  name: 'emulator',
  summary: 'run the local Stark Bank emulator alone (for a shared one, or to try the SDK against it)',
  options: {},
  notes: `its variables: EMULATOR_PORT (default 9100; 0: any free port), EMULATOR_WEBHOOK_URL (where its
invoice and transfer events go, besides the webhooks registered with it), EMULATOR_PAY_SHARE (0..1,
default 0.8), EMULATOR_PAY_DELAY_MS (default 1500), EMULATOR_TRANSFER_FAIL_SHARE (0..1, default 0.1),
EMULATOR_TRANSFER_SETTLE_MS (default 1000), EMULATOR_PROJECT_ID + EMULATOR_PROJECT_PUBLIC_KEY (the one
project allowed; else unsigned calls pass)`,
  async run(_args, ctx) {
    const options = ctx.localStarkBankConfig()
    const stopped = ctx.stopSignal()
    const emulator = await ctx.roots.startEmulator(options)
    await stopped
    await emulator.stop()
    return 0
  },
}

export const keysCreateCommand: Command = {
  name: 'keys create',
  summary: 'print a new secp256k1 key pair for a Stark Bank project (PEM)',
  options: {},
  async run(_args, ctx) {
    const keys = generateKeyPair()
    ctx.out(`${keys.privatePem}\n${keys.publicPem}`)
    return 0
  },
}

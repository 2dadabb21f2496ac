import { readFileSync } from 'node:fs'
import { runCli } from './adapters/cli/cli-runner.ts'
import type { CliContext } from './adapters/cli/command.ts'
import { COMMANDS } from './adapters/cli/commands.ts'
import { consoleLog } from './adapters/console-log.ts'
import { startupFailureOf } from './adapters/startup-failure.ts'
import { type Config, loadConfig, loadLocalStarkBankConfig } from './config.ts'
import { ROLES, type Role, sqsClientFor, starkBankFor, startPaybridge } from './paybridge.ts'
import type { Log } from './ports/log.ts'

// paybridge's command line: the command table (src/adapters/cli/commands.ts) over what only this
// composition root builds. With no command, or roles only (`web relay`), it runs paybridge.

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version

function context(env: Record<string, string | undefined>): CliContext {
  let config: Config | undefined
  let log: Log | undefined
  const loaded = () => {
    config ??= loadConfig(env)
    return config
  }
  const err = (text: string) => void process.stderr.write(text)
  return {
    out: (text) => void process.stdout.write(text),
    err,
    config: loaded,
    localStarkBankConfig: () => loadLocalStarkBankConfig(env),
    log() {
      const { logLevel, logFormat } = loaded()
      const format = logFormat === 'auto' ? (process.stderr.isTTY ? 'text' : 'json') : logFormat
      log ??= consoleLog({ level: logLevel, format })
      return log
    },
    stopSignal: () =>
      new Promise((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'))
        process.once('SIGINT', () => resolve('SIGINT'))
      }),
    roots: {
      roles: ROLES,
      startPaybridge: (config, roles, log) => startPaybridge(config, { log, roles: roles as Role[] }),
      // Loaded only for `emulator`: paybridge's own start does not pay for the emulator's modules.
      startEmulator: async (options) =>
        (await import('./emulator/emulator.ts')).runStandaloneEmulator(options, (line) => err(`${line}\n`)),
      bank: starkBankFor,
      sqsClient: sqsClientFor,
    },
  }
}

/** Runs one command line; its exit code. */
export async function cli(argv: string[], env = process.env): Promise<number> {
  const [first] = argv
  const words = first === undefined || ROLES.includes(first as Role) ? ['run', ...argv] : argv
  return runCli(COMMANDS, words, context(env), VERSION)
}

if (import.meta.main) {
  const code = await cli(process.argv.slice(2)).catch((err: unknown) => {
    // A known start-up failure (ledger file, port) is one line naming the variable; the rest keep their stack.
    const failure = startupFailureOf(err, startupNames())
    if (!failure) throw err
    process.stderr.write(`paybridge: ${failure.message}\n`)
    return 2
  })
  // Exit explicitly: keep-alive sockets to Stark Bank would otherwise hold a finished command open.
  process.exit(code)
}

/** What a start-up failure names: the configuration, or its defaults when it did not load. */
function startupNames() {
  try {
    return loadConfig(process.env)
  } catch {
    return loadConfig({})
  }
}

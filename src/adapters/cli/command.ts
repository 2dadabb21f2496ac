import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'
import type { SQSClient } from '@aws-sdk/client-sqs'
import type { Config, LocalStarkBankConfig, StarkCredentials } from '../../config.ts'
import type { Bank } from '../../ports/bank.ts'
import type { Log } from '../../ports/log.ts'

// One CLI command: its name, what it takes and does. The runner (cli-runner.ts) parses its options with
// node:util parseArgs and prints its usage, generated from this entry.

/** One `--name` option: a parseArgs option spec plus what the usage says about it. */
export interface CommandOption {
  type: 'string' | 'boolean'
  multiple?: boolean
  short?: string
  /** The value's placeholder in the usage (`--since T`); string options only. */
  value?: string
  description: string
}

/** The parsed words after the command's name. */
export interface CommandArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>
  positionals: string[]
  /** The words as given, for a module that reads them itself (`ledger <view> …`). */
  argv: string[]
}

export interface Command {
  /** The words that call it: `forwards replay`. */
  name: string
  /** One line for the command list. */
  summary: string
  /** The positional arguments in the usage line (`<transfer id>`, `[role …]`); none when absent. */
  arguments?: string
  /** How many positional arguments it takes (default: none). */
  positionals?: { min: number; max: number }
  options: Record<string, CommandOption>
  /** Lines after the options: rules, exit codes. */
  notes?: string
  /** Parses nothing but `--help`: the module reads `argv` itself (its usage still comes from here). */
  raw?: boolean
  run(args: CommandArgs, ctx: CliContext): Promise<number>
}

/** What the commands get from the composition root (main.ts), and where they write. */
export interface CliContext {
  out(text: string): void
  err(text: string): void
  /** paybridge's configuration, parsed on first use; a ConfigError is answered with exit 2. */
  config(): Config
  /** The standalone emulator's configuration; a ConfigError is answered with exit 2. */
  localStarkBankConfig(): LocalStarkBankConfig
  /** The log for the configured level and format (loads the configuration). */
  log(): Log
  /** Resolves at the first SIGTERM or SIGINT after the call, with its name. */
  stopSignal(): Promise<string>
  /** The parts only the composition root builds. */
  roots: {
    /** paybridge's parts, any of which a process may run alone (`all`: every one). */
    roles: readonly string[]
    startPaybridge(
      config: Config,
      roles: string[],
      log: Log,
    ): Promise<{ stop(): Promise<void>; failed: Promise<string> }>
    startEmulator(options: LocalStarkBankConfig): Promise<{ stop(): Promise<void> }>
    bank(stark: StarkCredentials, timeoutMs: number): Bank
    sqsClient(config: Config): Promise<SQSClient | undefined>
  }
}

/** How the command is called: `forwards replay [--dead] [--since T] …`. */
export function synopsis(command: Command): string {
  const options = Object.entries(command.options).map(([name, o]) => {
    const value = o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''
    return `[--${name}${value}${o.multiple ? ' …' : ''}]`
  })
  return [command.name, command.arguments, ...options].filter(Boolean).join(' ')
}

/** `usage: …` line, summary, options and notes of one command. */
export function usageOf(command: Command): string {
  const lines = Object.entries(command.options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`
    return `  ${flag.padEnd(18)} ${o.description}`
  })
  return [
    `usage: bun run src/main.ts ${synopsis(command)}`,
    `  ${command.summary}`,
    ...lines,
    `  ${'--help, -h'.padEnd(18)} this text`,
    ...(command.notes ? [command.notes.replace(/^/gm, '  ')] : []),
    '',
  ].join('\n')
}

/** The words parsed by node:util parseArgs against these options (strict), or what is wrong. */
export function parseOptions(
  options: Record<string, CommandOption>,
  argv: string[],
): Pick<CommandArgs, 'values' | 'positionals'> | string {
  const config: ParseArgsOptionsConfig = {}
  for (const [name, o] of Object.entries(options)) {
    config[name] = {
      type: o.type,
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
    }
  }
  try {
    return parseArgs({ args: argv, options: config, strict: true, allowPositionals: true })
  } catch (err) {
    // parseArgs' own advice (`-- "--x"`) is for positionals, not for a mistyped option.
    return (err instanceof Error ? err.message : String(err)).split('. To specify')[0] as string
  }
}

/** The parsed words, `'help'`, or what is wrong with them. */
export function parseCommandArgs(command: Command, argv: string[]): CommandArgs | 'help' | string {
  if (command.raw)
    return argv.includes('--help') || argv.includes('-h') ? 'help' : { values: {}, positionals: argv, argv }
  const help: CommandOption = { type: 'boolean', short: 'h', description: 'this text' }
  const parsed = parseOptions({ ...command.options, help }, argv)
  if (typeof parsed === 'string') return parsed
  if (parsed.values.help) return 'help'
  const { min, max } = command.positionals ?? { min: 0, max: 0 }
  const n = parsed.positionals.length
  if (n < min) return `missing ${command.arguments ?? 'argument'}`
  if (n > max) return `unexpected "${parsed.positionals[max]}"`
  return { values: parsed.values, positionals: parsed.positionals, argv }
}

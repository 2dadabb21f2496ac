import { ConfigError } from '../../config.ts'
import { type CliContext, type Command, parseCommandArgs, synopsis, usageOf } from './command.ts'

// Finds the command the words name (the longest name that matches), parses its options and runs it.
// Exit codes of the runner itself: 0 help or version, 2 an unknown command, a bad option or argument
// (with the command's own usage), or a configuration the command cannot run with.

/** The command list, generated from the table: each command's call, then what it does. */
export function tableUsage(table: Command[]): string {
  return [
    'usage: bun run src/main.ts [command] [options]',
    '',
    ...table.map((c) => `  ${synopsis(c)}\n      ${c.summary}`),
    '',
    "  <command> --help: that command's options and exit codes; --version: paybridge's version",
    '',
  ].join('\n')
}

/** The command whose name is the longest run of leading words in `argv`. */
export function findCommand(table: Command[], argv: string[]): Command | undefined {
  const matches = table.filter((c) => {
    const words = c.name.split(' ')
    return words.every((word, i) => argv[i] === word)
  })
  return matches.sort((a, b) => b.name.length - a.name.length)[0]
}

export async function runCli(
  table: Command[],
  argv: string[],
  ctx: CliContext,
  version: string,
): Promise<number> {
  const [first] = argv
  if (first === 'help' || first === '--help' || first === '-h') {
    ctx.out(tableUsage(table))
    return 0
  }
  if (first === '--version') {
    ctx.out(`${version}\n`)
    return 0
  }
  const command = findCommand(table, argv)
  if (!command) {
    ctx.err(`paybridge: unknown command "${argv.join(' ')}"\n${tableUsage(table)}`)
    return 2
  }
  const args = parseCommandArgs(command, argv.slice(command.name.split(' ').length))
  if (args === 'help') {
    ctx.out(usageOf(command))
    return 0
  }
  if (typeof args === 'string') {
    ctx.err(`paybridge: ${command.name}: ${args}\n${usageOf(command)}`)
    return 2
  }
  try {
    return await command.run(args, ctx)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    ctx.err(`paybridge: ${err.message}\n`)
    return 2
  }
}

import type { Command } from './command.ts'
import { deadLettersReplayCommand } from './dead-letter-commands.ts'
import { forwardsReplayCommand } from './forwards-replay.ts'
import {
  doctorEntry,
  webhooksGroupCommand,
  webhooksListCommand,
  webhooksRegisterCommand,
} from './go-live-commands.ts'
import { ledgerReconcileCommand, ledgerTraceCommand, ledgerViewsCommand } from './ledger-read-commands.ts'
import { emulatorCommand, keysCreateCommand, runCommand } from './service-commands.ts'
import { eventsSyncCommand, invoicesIssueCommand } from './stark-commands.ts'
import { stripeEnqueueCommand } from './stripe-commands.ts'
import { approveCommand, transfersReplayCommand } from './transfer-commands.ts'

/**
 * Every command, in the order `--help` lists them. A new command is one entry here and its module
 * (`{ name, summary, options, run }`); its usage, `--help` and option checks come from the entry.
 */
export const COMMANDS: Command[] = [
  runCommand,
  invoicesIssueCommand,
  eventsSyncCommand,
  stripeEnqueueCommand,
  forwardsReplayCommand,
  ledgerViewsCommand,
  ledgerTraceCommand,
  ledgerReconcileCommand,
  approveCommand,
  transfersReplayCommand,
  deadLettersReplayCommand,
  webhooksRegisterCommand,
  webhooksListCommand,
  webhooksGroupCommand,
  doctorEntry,
  emulatorCommand,
  keysCreateCommand,
]

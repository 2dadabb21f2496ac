import type { Bank } from '../../ports/bank.ts'
import { ledgerProbe, unopenedLedgerProbe } from '../ledger/doctor-probe.ts'
import { openStores } from '../ledger/open.ts'
import { stripeDownstreamProbe } from '../stripe/downstream-probe.ts'
import type { CliContext, Command } from './command.ts'
import { doctorCommand } from './doctor-command.ts'
import { webhooksCommand } from './webhook-commands.ts'

// What a team going live runs against the real Stark Bank: the webhook subscription, and `doctor`
// over every external part. Both need Stark Bank credentials (or STARK_API_URL to an emulator).

/** The configured Stark Bank, or undefined after saying what is missing (exit 2). */
function bankFor(command: string, ctx: CliContext): Bank | undefined {
  const config = ctx.config()
  if (config.stark) return ctx.roots.bank(config.stark, config.starkTimeoutMs)
  ctx.err(
    `paybridge: \`${command}\` needs Stark Bank credentials (STARK_PROJECT_ID, STARK_PRIVATE_KEY; STARK_API_URL for an emulator)\n`,
  )
  return undefined
}

async function webhooks(argv: string[], ctx: CliContext): Promise<number> {
  const bank = bankFor('webhooks', ctx)
  if (!bank) return 2
  return webhooksCommand(argv, { bank, publicUrl: ctx.config().publicUrl, out: ctx.out, err: ctx.err })
}

export const webhooksRegisterCommand: Command = {
  name: 'webhooks register',
  summary:
    "subscribe the URL to Stark Bank's invoice and transfer events, once (a second run creates nothing)",
  options: {
    url: {
      type: 'string',
      value: 'https://…',
      description: 'the URL (default: PUBLIC_URL + /webhook/starkbank)',
    },
    replace: {
      type: 'boolean',
      description: 'delete a subscription at the URL that lacks one of them, create a complete one',
    },
  },
  notes: 'exit codes: 0 created (or already there), 1 an incomplete subscription left as it is, 2 usage',
  run: ({ argv }, ctx) => webhooks(['register', ...argv], ctx),
}

export const webhooksListCommand: Command = {
  name: 'webhooks list',
  summary: "print the workspace's webhook subscriptions",
  options: { json: { type: 'boolean', description: 'as JSON' } },
  run: ({ argv }, ctx) => webhooks(['list', ...argv], ctx),
}

/** `webhooks` with another word: its module answers with the usage of both (exit 2). */
export const webhooksGroupCommand: Command = {
  name: 'webhooks',
  arguments: '<register | list> …',
  summary: 'the webhook subscription commands above',
  options: {},
  raw: true,
  run: ({ argv }, ctx) => webhooks(argv, ctx),
}

export const doctorEntry: Command = {
  name: 'doctor',
  // Its module reads its options (and refuses others with its usage), after the credentials check.
  raw: true,
  summary:
    'check Stark Bank, the queues, the Stripe downstream and the ledger; one line per check with its fix',
  options: { json: { type: 'boolean', description: 'the checks as JSON' } },
  notes:
    'Stark Bank: credentials, clock, public key, webhook subscription, balance; SQS queues (redrive policy,\n' +
    'visibility); the Stripe service; the ledger writable and migrated. Exit 0 when every check passes, 1 otherwise',
  async run({ argv }, ctx) {
    const bank = bankFor('doctor', ctx)
    if (!bank) return 2
    const config = ctx.config()
    // A ledger that cannot be opened is a failed check, not a crash.
    const stores = await openStores(config).catch((error: unknown) => error as Error)
    const sqs = await ctx.roots.sqsClient(config)
    // Loaded here, not at the top: the AWS SDK it imports is the slowest module, and every command
    // (paybridge's own start too) would pay for it.
    const { sqsQueueProbe } = await import('../sqs/queue-settings.ts')
    const queues = [
      config.sqs && { target: config.sqs.queue, carries: 'Stark Bank events' },
      config.stripeQueue && { target: config.stripeQueue, carries: 'Stripe events' },
    ].flatMap((q) => (q && sqs ? [sqsQueueProbe({ client: sqs, ...q })] : []))
    try {
      return await doctorCommand(argv, {
        bank,
        stark: config.stark as NonNullable<typeof config.stark>,
        publicUrl: config.publicUrl,
        ledger:
          stores instanceof Error
            ? unopenedLedgerProbe(config.databaseUrl ? 'postgres' : 'sqlite', stores)
            : ledgerProbe(stores),
        queues,
        stripe: config.stripe && stripeDownstreamProbe(config.stripe.serviceUrl, config.stripe.timeoutMs),
        handlingMs: config.queue.visibilityMs,
        out: ctx.out,
        err: ctx.err,
      })
    } finally {
      sqs?.destroy()
      if (!(stores instanceof Error)) await stores.close()
    }
  },
}

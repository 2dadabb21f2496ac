import type { SQSClient } from '@aws-sdk/client-sqs'
import { parseStripeMessage } from '../../app/stripe-message-schema.ts'
import type { OutgoingMessage, Queue } from '../../ports/queue.ts'
import { type Ledger, openLedger } from '../ledger/sqlite/database.ts'
import { openQueue, type QueueTarget } from '../open-queue.ts'
import { type Command, usageOf } from './command.ts'

/** The embedded queue's name when no SQS queue is configured for Stripe events. */
export const EMBEDDED_STRIPE_QUEUE = 'stripe-events'

/** Where the commands write; the process's streams unless a test captures them. */
export interface CliIo {
  out(text: string): void
  err(text: string): void
  /** All of standard input, for `-`. */
  stdin(): Promise<string>
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stdin: () => Bun.stdin.text(),
}

/** The Stripe events queue: SQS when configured, else the embedded `stripe-events` queue. */
export function openStripeQueue(deps: {
  queue: QueueTarget
  ledger: Ledger | undefined
  client: SQSClient | undefined
  visibilityMs: number
  maxReceives: number
}): Promise<Queue> {
  return openQueue({ ...deps, target: deps.queue, embeddedName: EMBEDDED_STRIPE_QUEUE })
}

export const stripeEnqueueCommand: Command = {
  name: 'stripe enqueue',
  arguments: '<file|->',
  positionals: { min: 1, max: 1 },
  summary: 'put Stripe events (JSON, an array, or JSON lines) on the Stripe queue',
  options: {},
  notes:
    'Each event raw, in an EventBridge envelope or an SNS notification; nothing is sent unless every item\n' +
    'is valid. `-` reads standard input. Exit codes: 0 queued, 1 bad input or queue failure, 2 usage',
  async run({ positionals }, ctx) {
    const config = ctx.config()
    // The embedded queue lives in the SQLite file; with the Stripe queue on SQS no file is opened.
    const ledger = config.stripeQueue ? undefined : openLedger(config.databasePath)
    const client = await ctx.roots.sqsClient(config)
    try {
      const queue = await openStripeQueue({
        queue: config.stripeQueue,
        ledger,
        client,
        visibilityMs: config.queue.visibilityMs,
        maxReceives: config.queue.maxReceives,
      })
      return await stripeEnqueue(positionals, { queue })
    } finally {
      client?.destroy()
      ledger?.close()
    }
  },
}

/**
 * `stripe enqueue <file|->`. Exit codes: 0 queued, 1 unreadable or invalid input or queue failure,
 * 2 usage.
 */
export async function stripeEnqueue(
  args: string[],
  deps: { queue: Queue; io?: CliIo; readFile?: (path: string) => Promise<string> },
): Promise<number> {
  const io = deps.io ?? processIo
  const readFile = deps.readFile ?? ((path: string) => Bun.file(path).text())
  if (args.length !== 1 || (args[0]?.startsWith('-') && args[0] !== '-')) {
    io.err(usageOf(stripeEnqueueCommand))
    return 2
  }
  const source = args[0] as string
  let text: string
  try {
    text = source === '-' ? await io.stdin() : await readFile(source)
  } catch (err) {
    io.err(`paybridge: cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`)
    return 1
  }
  const { items, problems } = splitEvents(text)
  const messages: OutgoingMessage[] = []
  for (const item of items) {
    const parsed = parseStripeMessage(item.body)
    if (!parsed.ok) problems.push(`${item.where}: ${parsed.reason}`)
    // No dedup id: the ledger is what deduplicates, and a replay from a file must not be dropped.
    else messages.push({ body: item.body })
  }
  if (problems.length > 0 || messages.length === 0) {
    if (messages.length === 0 && problems.length === 0) problems.push('no events in the input')
    io.err(`paybridge: nothing queued; ${source === '-' ? 'stdin' : source} has problems:\n`)
    for (const p of problems.slice(0, 20)) io.err(`  - ${p}\n`)
    if (problems.length > 20) io.err(`  … and ${problems.length - 20} more\n`)
    return 1
  }
  try {
    await deps.queue.send(messages)
  } catch (err) {
    io.err(`paybridge: could not queue the events on ${deps.queue.name}: ${(err as Error).message}\n`)
    return 1
  }
  io.out(`queued ${messages.length} event(s) on ${deps.queue.name} (${deps.queue.kind})\n`)
  return 0
}

/** One JSON value, an array of them, or JSON lines; each item keeps its text when it had its own. */
function splitEvents(text: string): { items: { where: string; body: string }[]; problems: string[] } {
  const trimmed = text.trim()
  try {
    const whole: unknown = JSON.parse(trimmed)
    if (Array.isArray(whole)) {
      return {
        items: whole.map((value, i) => ({ where: `item ${i + 1}`, body: JSON.stringify(value) })),
        problems: [],
      }
    }
    return { items: [{ where: 'input', body: trimmed }], problems: [] }
  } catch {
    // Not one JSON value: JSON lines.
  }
  const items: { where: string; body: string }[] = []
  const problems: string[] = []
  for (const [i, line] of text.split('\n').entries()) {
    const body = line.trim()
    if (!body) continue
    try {
      JSON.parse(body)
      items.push({ where: `line ${i + 1}`, body })
    } catch {
      problems.push(`line ${i + 1}: not JSON`)
    }
  }
  return { items, problems }
}

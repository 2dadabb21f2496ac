import type { SQSClient } from '@aws-sdk/client-sqs'
import { forwardReplayer, willSend } from '../../app/replay-forwards.ts'
import { parseStripeMessage } from '../../app/stripe-message-schema.ts'
import { parseSince } from '../../domain/ledger-time.ts'
import { STRIPE_EVENT_ID } from '../../domain/stripe-event.ts'
import type { Clock } from '../../ports/clock.ts'
import type { ForwardStore, ReplayFilter } from '../../ports/forward-store.ts'
import type { Log } from '../../ports/log.ts'
import type { OutgoingMessage, Queue } from '../../ports/queue.ts'
import type { Ledger } from '../ledger/sqlite/database.ts'
import { openQueue, type QueueTarget } from '../open-queue.ts'
import { renderTable } from './table.ts'

/** The embedded queue's name when no SQS queue is configured for Stripe events. */
export const EMBEDDED_STRIPE_QUEUE = 'stripe-events'

/** Where the commands write; the process's streams unless a test captures them. */
export interface CliIo {
  out(text: string): void
  err(text: string): void
  /** All of standard input, for `-`. */
  stdin(): Promise<string>
}

const processIo: CliIo = {
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

export const STRIPE_ENQUEUE_USAGE = `usage: bun run src/main.ts stripe enqueue <file|->
  Puts Stripe events on the configured Stripe queue: a JSON event (raw, EventBridge envelope or SNS
  notification), a JSON array of them, or JSON lines. Nothing is sent unless every item is valid.
`

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
    io.err(STRIPE_ENQUEUE_USAGE)
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

export const FORWARDS_REPLAY_USAGE = `usage: bun run src/main.ts forwards replay [--dead] [--since T] [--event evt_…] [--dry-run] [--force]
  Puts dead Stripe forwards back in the outbox; the running paybridge sends them again.
  --dead          only dead forwards
  --since T       only forwards received since T: an ISO time (2026-11-25T12:00Z) or an age (30m, 6h, 2d)
  --event evt_…   only this event
  --dry-run       print what would be done and change nothing
  --force         also send delivered events again (they are skipped otherwise)
  At least one of --dead, --since, --event is required.
`

/**
 * `forwards replay`. Prints every matching forward and what will happen to it, then does it.
 * Exit codes: 0 done (or nothing to do), 1 the --event named is unknown, 2 usage.
 */
export async function forwardsReplay(
  args: string[],
  deps: { store: Pick<ForwardStore, 'replayForwards'>; clock: Clock; log: Log; io?: CliIo },
): Promise<number> {
  const io = deps.io ?? processIo
  const parsed = parseReplayArgs(args, deps.clock())
  if (typeof parsed === 'string') {
    io.err(`paybridge: ${parsed}\n${FORWARDS_REPLAY_USAGE}`)
    return 2
  }
  const { filter, dryRun } = parsed
  const replayer = forwardReplayer(deps)
  const plan = await replayer.plan(filter)
  if (plan.entries.length === 0) {
    if (filter.eventId) {
      io.err(`paybridge: no forward matches ${describeFilter(filter)}\n`)
      return 1
    }
    io.out(`no forwards match ${describeFilter(filter)}\n`)
    return 0
  }
  io.out(`${dryRun ? 'would' : 'will'} send ${plan.queued} of ${plan.entries.length} matching forward(s):\n`)
  io.out(
    renderTable(
      plan.entries.map((e) => ({
        event: e.id,
        type: e.type,
        status: e.status,
        attempts: e.attempts,
        action: ACTION_TEXT[e.action],
        last_error: e.lastError ?? '',
      })),
    ),
  )
  if (dryRun) {
    io.out('dry run: nothing changed\n')
    return 0
  }
  if (plan.queued === 0) {
    io.out('nothing to send\n')
    return 0
  }
  const done = await replayer.replay(filter)
  io.out(`put ${done.entries.filter(willSend).length} forward(s) back in the outbox\n`)
  return 0
}

const ACTION_TEXT = {
  requeue: 'send again',
  resend: 'send again (--force)',
  'skip-delivered': 'skip: delivered (--force to send)',
  'skip-pending': 'skip: already queued',
} as const

function describeFilter(f: ReplayFilter): string {
  const parts = [
    f.dead ? 'status dead' : '',
    f.since !== undefined ? `received since ${new Date(f.since).toISOString()}` : '',
    f.eventId ? `event ${f.eventId}` : '',
  ]
  return parts.filter(Boolean).join(', ')
}

function parseReplayArgs(args: string[], now: number): { filter: ReplayFilter; dryRun: boolean } | string {
  const filter: ReplayFilter = {}
  let dryRun = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    switch (arg) {
      case '--dead':
        filter.dead = true
        break
      case '--force':
        filter.force = true
        break
      case '--dry-run':
        dryRun = true
        break
      case '--since': {
        const since = parseSince(args[++i], now)
        if (since === undefined)
          return '--since takes an ISO time (2026-11-25T12:00Z) or an age (30m, 6h, 2d)'
        filter.since = since
        break
      }
      case '--event': {
        const id = args[++i]
        if (!id || !STRIPE_EVENT_ID.test(id)) return '--event takes a Stripe event id (evt_…)'
        filter.eventId = id
        break
      }
      default:
        return `unknown argument "${arg}"`
    }
  }
  if (!filter.dead && filter.since === undefined && !filter.eventId) {
    return 'say which forwards to replay: --dead, --since or --event'
  }
  return { filter, dryRun }
}

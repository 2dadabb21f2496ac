import { forwardReplayer, willSend } from '../../app/replay-forwards.ts'
import { parseSince, shownTime } from '../../domain/ledger-time.ts'
import { STRIPE_EVENT_ID } from '../../domain/stripe-event.ts'
import type { Clock } from '../../ports/clock.ts'
import type { ForwardStore, ReplayFilter } from '../../ports/forward-store.ts'
import type { Log } from '../../ports/log.ts'
import { openStores } from '../ledger/open.ts'
import { type Command, parseCommandArgs, usageOf } from './command.ts'
import { type CliIo, processIo } from './stripe-commands.ts'
import { renderTable } from './table.ts'

export const forwardsReplayCommand: Command = {
  name: 'forwards replay',
  summary: 'send dead (or chosen) Stripe forwards again; delivered ones only with --force',
  options: {
    dead: { type: 'boolean', description: 'only dead forwards' },
    since: {
      type: 'string',
      value: 'T',
      description: 'only forwards received since T: an ISO time (2026-11-25T12:00Z) or an age (30m, 6h, 2d)',
    },
    event: { type: 'string', value: 'evt_…', description: 'only this event' },
    'dry-run': { type: 'boolean', description: 'print what would be done and change nothing' },
    force: { type: 'boolean', description: 'also send delivered events again (they are skipped otherwise)' },
  },
  notes:
    'At least one of --dead, --since, --event is required. Puts the forwards back in the outbox; the\n' +
    'running paybridge sends them again. Exit codes: 0 done (or nothing to do), 1 the --event is unknown, 2 usage',
  async run({ argv }, ctx) {
    const config = ctx.config()
    const stores = await openStores(config, { existing: true })
    try {
      return await forwardsReplay(argv, { store: stores.forwards, clock: Date.now, log: ctx.log() })
    } finally {
      await stores.close()
    }
  },
}

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
    io.err(`paybridge: ${parsed}\n${usageOf(forwardsReplayCommand)}`)
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
    f.since !== undefined ? `received since ${shownTime(f.since)}` : '',
    f.eventId ? `event ${f.eventId}` : '',
  ]
  return parts.filter(Boolean).join(', ')
}

function parseReplayArgs(args: string[], now: number): { filter: ReplayFilter; dryRun: boolean } | string {
  const parsed = parseCommandArgs(forwardsReplayCommand, args)
  if (parsed === 'help') return 'replay takes no --help here'
  if (typeof parsed === 'string') return parsed
  const values = parsed.values as {
    dead?: boolean
    force?: boolean
    'dry-run'?: boolean
    since?: string
    event?: string
  }
  const filter: ReplayFilter = {}
  if (values.dead) filter.dead = true
  if (values.force) filter.force = true
  if (values.since !== undefined) {
    const since = parseSince(values.since, now)
    if (since === undefined) return '--since takes an ISO time (2026-11-25T12:00Z) or an age (30m, 6h, 2d)'
    filter.since = since
  }
  if (values.event !== undefined) {
    if (!STRIPE_EVENT_ID.test(values.event)) return '--event takes a Stripe event id (evt_…)'
    filter.eventId = values.event
  }
  if (!filter.dead && filter.since === undefined && !filter.eventId) {
    return 'say which forwards to replay: --dead, --since or --event'
  }
  return { filter, dryRun: values['dry-run'] === true }
}

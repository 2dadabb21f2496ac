import { deadLettersToReplay, replayDeadLetter } from '../../app/replay-dead-letter.ts'
import type { Log } from '../../ports/log.ts'
import type { Queue } from '../../ports/queue.ts'
import type { Store } from '../../ports/store.ts'
import { openStores } from '../ledger/open.ts'
import { openLedger } from '../ledger/sqlite/database.ts'
import { openQueue } from '../open-queue.ts'
import { type Command, usageOf } from './command.ts'
import { openStripeQueue } from './stripe-commands.ts'
import { renderTable } from './table.ts'

/**
 * `ledger dead-letters replay`. Exit codes: 0 replayed (or nothing to replay), 1 a chosen id is not
 * kept or a replay failed, 2 usage.
 */
export async function deadLettersReplay(
  values: { id?: string[]; all?: boolean; 'dry-run'?: boolean },
  deps: {
    store: Pick<Store, 'listDeadLetters' | 'deadLetterById' | 'removeDeadLetter'>
    queues: Record<string, Queue>
    log: Log
    out(text: string): void
    err(text: string): void
  },
): Promise<number> {
  const usage = (problem: string) => {
    deps.err(`paybridge: ${problem}\n${usageOf(deadLettersReplayCommand)}`)
    return 2
  }
  const ids = (values.id ?? []).map(Number)
  if (ids.some((id) => !Number.isSafeInteger(id) || id <= 0))
    return usage('--id takes a dead letter id (a whole number)')
  const all = values.all === true
  if (all === ids.length > 0) return usage('say which: --id N (repeatable) or --all')
  const { found, missing } = await deadLettersToReplay(deps.store, all ? 'all' : ids)
  for (const id of missing) deps.err(`paybridge: no dead letter ${id}\n`)
  if (found.length === 0) {
    if (missing.length === 0) deps.out('no dead letters\n')
    return missing.length > 0 ? 1 : 0
  }
  const rows = found.map((d) => ({
    id: String(d.id),
    queue: d.queue,
    message: d.messageId,
    reason: d.reason,
  }))
  if (values['dry-run']) {
    deps.out(`would put ${found.length} dead letter(s) back on their queues:\n${renderTable(rows)}`)
    return missing.length > 0 ? 1 : 0
  }
  const replay = replayDeadLetter(deps)
  let failed = missing.length
  for (const letter of found) {
    const result = await replay(letter.id)
    if (result.ok) deps.out(`dead letter ${letter.id}: ${result.message}\n`)
    else {
      failed++
      deps.err(`paybridge: dead letter ${letter.id}: ${result.message}\n`)
    }
  }
  return failed > 0 ? 1 : 0
}

export const deadLettersReplayCommand: Command = {
  name: 'ledger dead-letters replay',
  summary:
    'put kept dead letters (also those drained from an SQS dead-letter queue) back on the queue they died on',
  options: {
    id: { type: 'string', multiple: true, value: 'N', description: 'this dead letter (repeatable)' },
    all: { type: 'boolean', description: 'every kept dead letter' },
    'dry-run': { type: 'boolean', description: 'print what would be done and change nothing' },
  },
  notes:
    'say which: --id N (repeatable) or --all; each is then removed from the ledger (SQLite or PostgreSQL).\n' +
    'Safe to repeat: the worker records each event once by its id.\n' +
    'exit codes: 0 replayed (or nothing to replay), 1 a chosen id is not kept or a replay failed, 2 usage',
  async run({ values }, ctx) {
    const config = ctx.config()
    const log = ctx.log()
    const stores = await openStores(config, { existing: true })
    const client = await ctx.roots.sqsClient(config)
    // The embedded queues live in the SQLite file; with SQS (and so on PostgreSQL) no file is opened.
    const embedded = !config.sqs?.queue || (config.stripe && !config.stripeQueue)
    const ledger = embedded ? openLedger(config.databasePath) : undefined
    try {
      const queueOptions = {
        ledger,
        client,
        visibilityMs: config.queue.visibilityMs,
        maxReceives: config.queue.maxReceives,
      }
      const stark = await openQueue({
        ...queueOptions,
        target: config.sqs?.queue,
        embeddedName: 'stark-events',
      })
      const stripe = config.stripe
        ? await openStripeQueue({ ...queueOptions, queue: config.stripeQueue })
        : undefined
      return await deadLettersReplay(values, {
        store: stores.store,
        queues: { [stark.name]: stark, ...(stripe ? { [stripe.name]: stripe } : {}) },
        log,
        out: ctx.out,
        err: ctx.err,
      })
    } finally {
      client?.destroy()
      ledger?.close()
      await stores.close()
    }
  },
}

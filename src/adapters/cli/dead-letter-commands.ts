import { parseArgs } from 'node:util'
import { deadLettersToReplay, replayDeadLetter } from '../../app/replay-dead-letter.ts'
import type { Log } from '../../ports/log.ts'
import type { Queue } from '../../ports/queue.ts'
import type { Store } from '../../ports/store.ts'
import { renderTable } from './table.ts'

export const DEAD_LETTERS_REPLAY_USAGE = `usage: bun run src/main.ts ledger dead-letters replay (--id N … | --all) [--dry-run]
  Puts kept dead letters (messages paybridge could not use, and those drained from an SQS dead-letter
  queue) back on the queue they died on, then removes them from the ledger. Safe to repeat: the worker
  records each event once by its id. Works on the SQLite ledger and on PostgreSQL (DATABASE_URL).
`

/**
 * `ledger dead-letters replay`. Exit codes: 0 replayed (or nothing to replay), 1 a chosen id is not
 * kept or a replay failed, 2 usage.
 */
export async function deadLettersReplay(
  args: string[],
  deps: {
    store: Pick<Store, 'listDeadLetters' | 'deadLetterById' | 'removeDeadLetter'>
    queues: Record<string, Queue>
    log: Log
    out(text: string): void
    err(text: string): void
  },
): Promise<number> {
  const usage = (problem: string) => {
    deps.err(`paybridge: ${problem}\n${DEAD_LETTERS_REPLAY_USAGE}`)
    return 2
  }
  let values: { id?: string[]; all?: boolean; 'dry-run'?: boolean }
  try {
    ;({ values } = parseArgs({
      args,
      options: {
        id: { type: 'string', multiple: true },
        all: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err))
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

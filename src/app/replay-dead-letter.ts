import type { Log } from '../ports/log.ts'
import type { Queue } from '../ports/queue.ts'
import type { DeadLetter, Store } from '../ports/store.ts'

export type DeadLetterReplay = { ok: boolean; message: string }

/**
 * Sends a dead letter's body again on the queue it died on (one of `queues`, by name), then removes
 * the row: the same on either ledger. The send comes first, so a failed send loses nothing; a crash
 * between the two leaves the row to be replayed again, harmless because the inbox keys events by id.
 */
export function replayDeadLetter(deps: {
  store: Pick<Store, 'deadLetterById' | 'removeDeadLetter'>
  queues: Record<string, Queue>
  log: Log
}) {
  return async (id: number): Promise<DeadLetterReplay> => {
    const letter = Number.isSafeInteger(id) ? await deps.store.deadLetterById(id) : undefined
    if (!letter) return { ok: false, message: `no dead letter ${id}` }
    const queue = deps.queues[letter.queue]
    if (!queue) return { ok: false, message: `queue ${letter.queue} is not served by this paybridge` }
    await queue.send([{ body: letter.body }])
    await deps.store.removeDeadLetter(id)
    deps.log.info('dead letter replayed', { queue: letter.queue, messageId: letter.messageId })
    return { ok: true, message: `message ${letter.messageId} is back on ${letter.queue}` }
  }
}

/** The dead letters a replay would take: the chosen ids, or every kept one (`'all'`). */
export async function deadLettersToReplay(
  store: Pick<Store, 'listDeadLetters' | 'deadLetterById'>,
  which: number[] | 'all',
): Promise<{ found: DeadLetter[]; missing: number[] }> {
  if (which === 'all') return { found: await store.listDeadLetters(10_000), missing: [] }
  const found: DeadLetter[] = []
  const missing: number[] = []
  for (const id of which) {
    const letter = await store.deadLetterById(id)
    if (letter) found.push(letter)
    else missing.push(id)
  }
  return { found, missing }
}

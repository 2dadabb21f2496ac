import type { Log } from '../ports/log.ts'
import type { Queue, QueueMessage } from '../ports/queue.ts'

/**
 * Keeps messages in hand hidden while they are handled: extends their visibility every half
 * visibility period. `stop()` ends it and waits for a change still in flight, so an ack or a
 * release that follows never races it (a late change could make a deleted message visible again).
 */
export function visibilityHeartbeat(queue: Queue, messages: QueueMessage[], visibilityMs: number, log: Log) {
  let beat: Promise<void> = Promise.resolve()
  const timer = setInterval(
    () => {
      beat = beat
        .then(async () => {
          await Promise.all(messages.map((m) => queue.extend(m, visibilityMs)))
        })
        .catch((err) =>
          log.warn('could not extend visibility', {
            queue: queue.name,
            ...(messages.length === 1 ? { messageId: messages[0]?.id } : { count: messages.length }),
            error: String(err),
          }),
        )
    },
    Math.max(250, Math.floor(visibilityMs / 2)),
  )
  return {
    async stop(): Promise<void> {
      clearInterval(timer)
      await beat
    },
  }
}

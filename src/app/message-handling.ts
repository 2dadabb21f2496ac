import type { Random } from '../domain/random.ts'
import { type BackoffPolicy, backoffMs } from '../domain/retry.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { Queue, QueueMessage } from '../ports/queue.ts'
import type { Store } from '../ports/store.ts'
import type { OutagePause } from './consumer-pause.ts'
import type { HandleResult } from './record-bank-event.ts'
import { visibilityHeartbeat } from './visibility-heartbeat.ts'

export interface MessageHandlingOptions {
  queue: Queue
  handle: (body: string, message: QueueMessage) => HandleResult | Promise<HandleResult>
  /**
   * Handles a whole receive at once (one ledger transaction), results in the same order; the
   * messages are then acked in one call. When it throws, the messages are handled one by one.
   */
  handleBatch?: ((bodies: string[]) => Promise<HandleResult[]>) | undefined
  store: Pick<Store, 'deadLetter'>
  log: Log
  clock: Clock
  random: Random
  visibilityMs: number
  /** Larger bodies are dead-lettered unread. */
  maxBodyBytes: number
  /** Delay before a message whose handling threw is offered again. */
  retry: BackoffPolicy
  metrics?: Pick<Metrics, 'queueAcked' | 'queueDeadLettered'> | undefined
  /** Whether a failure is the infrastructure's rather than the message's: the consumer pauses. */
  isInfrastructure: (error: unknown) => boolean
}

/**
 * The ack rules for messages in hand: a message is deleted only after `handle` returned (its effects
 * are committed); one `handle` cannot use is kept in the ledger's dead letters with the reason, then
 * deleted; one whose handling threw is made visible again after a backoff (the queue dead-letters it
 * after its max receive count); an infrastructure failure hands it to the outage `pause`, uncounted.
 * Long handling extends visibility; a delete waits for any visibility change still in flight.
 */
export function messageHandling(o: MessageHandlingOptions, pause: OutagePause) {
  function tooLarge(message: QueueMessage): HandleResult | undefined {
    const bytes = Buffer.byteLength(message.body)
    if (bytes <= o.maxBodyBytes) return undefined
    return { kind: 'dead', reason: `body of ${bytes} bytes is over the ${o.maxBodyBytes}-byte limit` }
  }

  async function deadLetter(message: QueueMessage, reason: string): Promise<void> {
    const { queue, log, store, clock } = o
    await store.deadLetter(
      {
        queue: queue.name,
        messageId: message.id,
        body: message.body,
        reason,
        receiveCount: message.receiveCount,
      },
      clock(),
    )
    o.metrics?.queueDeadLettered(queue.name, 1)
    log.warn('message dead-lettered', { queue: queue.name, messageId: message.id, reason })
  }

  /** A whole receive in one handler call and one ack; falls back to one at a time if the batch fails. */
  async function processBatch(messages: QueueMessage[]): Promise<void> {
    const { queue, log } = o
    const handleBatch = o.handleBatch
    if (!handleBatch) throw new Error('processBatch without handleBatch')
    const heartbeat = visibilityHeartbeat(queue, messages, o.visibilityMs, log)
    try {
      const readable = messages.filter((m) => !tooLarge(m))
      let results: HandleResult[]
      try {
        results = readable.length > 0 ? await handleBatch(readable.map((m) => m.body)) : []
      } catch (err) {
        await heartbeat.stop()
        if (o.isInfrastructure(err)) return await pause.failed(err, messages)
        log.warn('batch failed; handling its messages one at a time', {
          queue: queue.name,
          count: messages.length,
          error: err instanceof Error ? err.message : String(err),
        })
        await Promise.all(messages.map((m) => process(m)))
        return
      }
      for (const message of messages) {
        const result = tooLarge(message) ?? results[readable.indexOf(message)]
        if (result?.kind === 'dead') await deadLetter(message, result.reason)
      }
      await heartbeat.stop()
      const failed = await queue.ack(messages)
      o.metrics?.queueAcked(queue.name, messages.length - failed.length)
      if (failed.length > 0) {
        log.warn('ack failed; those messages will be redelivered and deduplicated', {
          queue: queue.name,
          count: failed.length,
        })
      }
    } catch (err) {
      await heartbeat.stop()
      if (o.isInfrastructure(err)) return await pause.failed(err, messages)
      log.error('batch handling failed; will retry', {
        queue: queue.name,
        error: err instanceof Error ? err.message : String(err),
      })
      const receives = Math.max(...messages.map((m) => m.receiveCount))
      await queue.release(messages, backoffMs(receives, o.random, o.retry)).catch(() => undefined)
    } finally {
      await heartbeat.stop()
    }
  }

  async function process(message: QueueMessage): Promise<void> {
    const { queue, log } = o
    const heartbeat = visibilityHeartbeat(queue, [message], o.visibilityMs, log)
    try {
      const result = tooLarge(message) ?? (await o.handle(message.body, message))
      if (result.kind === 'dead') await deadLetter(message, result.reason)
      await heartbeat.stop()
      const failed = await queue.ack([message])
      o.metrics?.queueAcked(queue.name, 1 - failed.length)
      if (failed.length > 0)
        log.warn('ack failed; the message will be redelivered and deduplicated', {
          queue: queue.name,
          messageId: message.id,
        })
    } catch (err) {
      await heartbeat.stop()
      if (o.isInfrastructure(err)) return await pause.failed(err, [message])
      const delay = backoffMs(message.receiveCount, o.random, o.retry)
      log.error('message handling failed; will retry', {
        queue: queue.name,
        messageId: message.id,
        receiveCount: message.receiveCount,
        error: err instanceof Error ? err.message : String(err),
        retryInMs: delay,
      })
      await queue.release([message], delay).catch(() => undefined)
    } finally {
      await heartbeat.stop()
    }
  }

  return { process, processBatch }
}

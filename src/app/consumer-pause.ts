import type { Random } from '../domain/random.ts'
import { type BackoffPolicy, backoffMs } from '../domain/retry.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { Queue, QueueMessage } from '../ports/queue.ts'

export interface OutagePauseOptions {
  queue: Queue
  log: Log
  random: Random
  /** Between probes while paused: capped exponential. */
  backoff: BackoffPolicy
  /** How long a message stays hidden after a visibility change (the consumer's visibility). */
  visibilityMs: number
  /** The consumer's long-poll wait: how long an aborted SQS poll may stay open at SQS. */
  pollWaitMs: number
  /** Throws while the ledger cannot take the consumer's steps; probed after `queue.ping()`. */
  probe?: () => Promise<void>
  metrics?: Pick<Metrics, 'consumerPaused' | 'consumerInfrastructureFailure'> | undefined
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * A queue's pause during an infrastructure outage (ledger or queue unavailable), shared by all its
 * receive loops in the process. While paused nothing is received, and the messages in hand are kept
 * hidden (their visibility extended before each wait) and handed back when the pause ends, without
 * counting the delivery where the queue can. Handing them back at once would not do on SQS: a long
 * poll that was aborted may still be open at SQS and take them, counting a receive each time. So an
 * outage costs a message at most the one receive it was in. The pause ends on its own once a probe
 * succeeds; one warning when it starts, one info line when it ends.
 */
export class OutagePause {
  private why: string | undefined
  private since = 0
  private failures = 0
  /** Messages in hand when the outage hit, handed back when it ends. */
  private readonly held: QueueMessage[] = []
  private recovering: Promise<void> | undefined
  private pausing = new AbortController()
  /** Not before then are held messages handed back (see `failed`). */
  private handBackAfter = 0

  constructor(private readonly o: OutagePauseOptions) {}

  /** Why the consumer is paused, or `undefined` while it consumes. */
  reason(): string | undefined {
    return this.why
  }

  /**
   * Aborted when a pause starts: receives pass it on so that a long poll in flight ends before the
   * messages are handed back (it would take them, and on SQS count another receive).
   */
  signal(): AbortSignal {
    return this.pausing.signal
  }

  /** An infrastructure failure while receiving or handling `messages`: pause and hand them back. */
  async failed(error: unknown, messages: QueueMessage[]): Promise<void> {
    const { queue, log, metrics } = this.o
    metrics?.consumerInfrastructureFailure(queue.name)
    this.failures++
    if (this.why === undefined) {
      this.why = describe(error)
      this.since = Date.now()
      this.pausing.abort()
      // An aborted long poll can stay open at SQS for its whole wait and take what is handed back
      // (a receive nobody sees, counted). The embedded queue's polls end with the abort.
      this.handBackAfter = this.since + (queue.kind === 'sqs' ? this.o.pollWaitMs : 0)
      metrics?.consumerPaused(queue.name, true)
      log.warn(
        'consumer paused: ledger or queue unavailable; messages in hand are handed back when it ends',
        {
          queue: queue.name,
          error: this.why,
          inHand: messages.length,
        },
      )
    }
    this.hold(messages)
  }

  /** Keeps messages received while paused (never tried) to hand back when the outage ends. */
  hold(messages: QueueMessage[]): void {
    this.held.push(...messages)
  }

  /** Hands back what is held (on stop), best effort: otherwise their visibility runs out. */
  async handBackHeld(): Promise<void> {
    if (this.held.length === 0) return
    await this.o.queue.handBack(this.held.splice(0)).catch(() => undefined)
  }

  /**
   * Probes with backoff until the ledger and queue answer (or `signal` aborts), then resumes. The
   * receive loops sharing this pause wait on one recovery.
   */
  recover(signal: AbortSignal): Promise<void> {
    this.recovering ??= this.probeUntilUp(signal).finally(() => {
      this.recovering = undefined
    })
    return this.recovering
  }

  private async probeUntilUp(signal: AbortSignal): Promise<void> {
    const { queue, log, metrics } = this.o
    for (let attempt = 1; this.why !== undefined && !signal.aborted; attempt++) {
      const early = this.handBackAfter - Date.now()
      const wait = Math.max(backoffMs(attempt, this.o.random, this.o.backoff), Math.min(early, 1_000))
      // Best effort: on a queue that lives on the failing ledger this fails too, and the messages
      // come back after their visibility (then a later receive counts them).
      await Promise.all(
        this.held.map((m) => queue.extend(m, wait + this.o.visibilityMs).catch(() => undefined)),
      )
      await abortableSleep(wait, signal)
      if (signal.aborted) return
      try {
        await queue.ping()
        await this.o.probe?.()
        if (Date.now() < this.handBackAfter) continue
        const back = this.held.splice(0)
        await queue.handBack(back).catch((error) => {
          this.held.unshift(...back)
          throw error
        })
      } catch (error) {
        log.debug('consumer still paused', { queue: queue.name, error: describe(error) })
        continue
      }
      log.info('consumer resumed: ledger and queue answer again', {
        queue: queue.name,
        pausedMs: Date.now() - this.since,
        failures: this.failures,
      })
      metrics?.consumerPaused(queue.name, false)
      this.pausing = new AbortController()
      this.why = undefined
      this.failures = 0
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

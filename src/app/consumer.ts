import { type BackoffPolicy, backoffMs } from '../domain/retry.ts'
import type { Metrics } from '../ports/metrics.ts'
import { type QueueMessage, QueueUnavailable } from '../ports/queue.ts'
import { LedgerUnavailable } from '../ports/store.ts'
import { OutagePause } from './consumer-pause.ts'
import { type MessageHandlingOptions, messageHandling } from './message-handling.ts'

export interface ConsumerOptions
  extends Omit<MessageHandlingOptions, 'maxBodyBytes' | 'retry' | 'isInfrastructure' | 'metrics'> {
  concurrency: number
  waitMs?: number
  /** Messages asked for in one receive (SQS allows at most 10; the embedded queue more). */
  maxPerReceive?: number
  /**
   * After a receive that came back short (it drained the queue), handle it before polling again,
   * so the next receive finds a fuller batch instead of only what arrived meanwhile: fewer receives,
   * transactions and deletes per message while the queue keeps up, the same pipelining under a backlog.
   */
  settleShortReceives?: boolean
  /** Larger bodies are dead-lettered unread. */
  maxBodyBytes?: number
  /** Delay before a message whose handling threw is offered again. */
  retry?: BackoffPolicy
  metrics?:
    | Pick<
        Metrics,
        | 'queueReceived'
        | 'queueAcked'
        | 'queueDeadLettered'
        | 'consumerPaused'
        | 'consumerInfrastructureFailure'
      >
    | undefined
  /**
   * Whether a failure is the infrastructure's (the ledger or queue cannot take the step now) rather
   * than the message's. Default: `LedgerUnavailable` and `QueueUnavailable`.
   */
  isInfrastructure?: (error: unknown) => boolean
  /** Throws while the ledger cannot take the consumer's steps; probed (after `queue.ping()`) while paused. */
  probe?: (() => Promise<void>) | undefined
  /** Between probes while paused. */
  pauseBackoff?: BackoffPolicy
  /**
   * The pause shared by several consumers of one queue (receive loops), so they stop and resume
   * together; without it the consumer builds its own from `probe`, `pauseBackoff` and `metrics`.
   */
  outage?: OutagePause
}

const infrastructureByDefault = (error: unknown) =>
  error instanceof LedgerUnavailable || error instanceof QueueUnavailable

/**
 * Polls a queue and runs each message through `handle`, at most `concurrency` at once, under the
 * ack rules of `messageHandling`. An infrastructure failure (ledger or queue unavailable) is not the
 * message's: the consumer pauses instead (see `OutagePause`), hands its messages back uncounted and
 * resumes once the ledger answers.
 */
export class QueueConsumer {
  private running = false
  private loop: Promise<void> | undefined
  private poll: AbortController | undefined
  private readonly inFlight = new Set<Promise<void>>()
  private slotFreed: (() => void) | undefined
  private readonly o: Required<Omit<ConsumerOptions, 'metrics' | 'handleBatch' | 'probe' | 'outage'>> &
    Pick<ConsumerOptions, 'metrics' | 'handleBatch' | 'probe'>
  /** Messages in hand (a batch counts each of its messages). */
  private busy = 0
  private readonly pause: OutagePause
  private readonly handling: ReturnType<typeof messageHandling>
  private stopping = new AbortController()

  constructor(options: ConsumerOptions) {
    this.o = {
      waitMs: 20_000,
      maxPerReceive: 10,
      settleShortReceives: false,
      maxBodyBytes: 256 * 1024,
      retry: { baseMs: 1_000, capMs: 60_000 },
      isInfrastructure: infrastructureByDefault,
      pauseBackoff: { baseMs: 500, capMs: 5_000 },
      ...options,
    }
    this.pause =
      options.outage ??
      new OutagePause({
        queue: this.o.queue,
        log: this.o.log,
        random: this.o.random,
        backoff: this.o.pauseBackoff,
        visibilityMs: this.o.visibilityMs,
        pollWaitMs: this.o.waitMs,
        metrics: this.o.metrics,
        ...(this.o.probe ? { probe: this.o.probe } : {}),
      })
    this.handling = messageHandling(this.o, this.pause)
  }

  /** Why the consumer is paused (a ledger or queue outage), or `undefined` while it consumes. */
  paused(): string | undefined {
    return this.pause.reason()
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.stopping = new AbortController()
    this.loop = this.run()
  }

  /**
   * Drains: stops polling, aborts the long poll, lets messages in hand finish for up to `timeoutMs`
   * (their visibility covers the rest), and releases received-but-unstarted messages at once.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopping.abort()
    this.poll?.abort()
    this.slotFreed?.()
    await this.loop
    await this.pause.handBackHeld()
    const pending = [...this.inFlight]
    if (pending.length === 0) return
    this.o.log.info('draining messages in hand', { queue: this.o.queue.name, count: pending.length })
    let timer: Timer | undefined
    await Promise.race([Promise.all(pending), new Promise((r) => (timer = setTimeout(r, timeoutMs)))])
    clearTimeout(timer)
  }

  private async run(): Promise<void> {
    const { queue, log } = this.o
    let failures = 0
    while (this.running) {
      if (this.pause.reason() !== undefined) {
        await this.pause.recover(this.stopping.signal)
        continue
      }
      const free = this.o.concurrency - this.busy
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve))
        continue
      }
      this.poll = new AbortController()
      const max = Math.min(this.o.maxPerReceive, free)
      let messages: QueueMessage[]
      try {
        messages = await queue.receive({
          max,
          waitMs: this.o.waitMs,
          signal: AbortSignal.any([this.poll.signal, this.pause.signal()]),
        })
        failures = 0
      } catch (err) {
        if (!this.running) break
        if (this.o.isInfrastructure(err)) {
          await this.pause.failed(err, [])
          continue
        }
        failures++
        const delay = backoffMs(failures, this.o.random, { baseMs: 500, capMs: 30_000 })
        log.warn('queue receive failed; backing off', {
          queue: queue.name,
          error: String(err),
          retryInMs: delay,
        })
        await Bun.sleep(delay)
        continue
      }
      if (!this.running) {
        // Received while stopping: hand them straight back rather than make them wait out visibility.
        if (messages.length > 0) await queue.release(messages, 0).catch(() => undefined)
        break
      }
      if (this.pause.reason() !== undefined) {
        // A message in hand met an outage while this receive was out: these were never tried.
        this.pause.hold(messages)
        continue
      }
      if (messages.length > 0) this.o.metrics?.queueReceived(queue.name, messages.length)
      const { process, processBatch } = this.handling
      const work =
        this.o.handleBatch && messages.length > 1
          ? [this.track(processBatch(messages), messages.length)]
          : messages.map((message) => this.track(process(message), 1))
      if (!this.o.settleShortReceives || messages.length === 0 || messages.length >= max) continue
      // Woken by each finished task, and by stop(): a drain still gets its timeout.
      while (this.running && work.some((task) => this.inFlight.has(task)))
        await new Promise<void>((resolve) => (this.slotFreed = resolve))
    }
  }

  private track(work: Promise<void>, size: number): Promise<void> {
    this.busy += size
    const task = work.finally(() => {
      this.busy -= size
      this.inFlight.delete(task)
      this.slotFreed?.()
    })
    this.inFlight.add(task)
    return task
  }
}

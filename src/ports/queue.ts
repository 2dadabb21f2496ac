/** A message handed out by a Queue; `receipt` identifies this delivery (it changes on redelivery). */
export interface QueueMessage {
  /** Stable id of the message across deliveries. */
  id: string
  body: string
  receipt: string
  /** 1 on the first delivery. */
  receiveCount: number
  /** When the message was first sent (ms since epoch), for age metrics. */
  sentAt: number
  groupId?: string
}

export interface OutgoingMessage {
  body: string
  /** Provider event id: FIFO queues drop a second send with the same id. */
  dedupId?: string
  /** FIFO ordering group: messages of one group are handed out in order, one at a time. */
  groupId?: string
}

export interface ReceiveOptions {
  max: number
  /** Long-poll wait; 0 returns at once. */
  waitMs: number
  /** Aborting ends a long poll early with whatever has arrived (possibly nothing). */
  signal?: AbortSignal
}

/**
 * The queue between the webhook and the worker, and the Stripe event queue.
 * At-least-once: a message is delivered again until `ack`ed; after the queue's max receive count it is
 * moved to the queue's dead-letter place by the queue itself.
 */
export interface Queue {
  readonly name: string
  readonly kind: 'embedded' | 'sqs'
  send(messages: OutgoingMessage[]): Promise<void>
  receive(options: ReceiveOptions): Promise<QueueMessage[]>
  /** Deletes delivered messages. Returns the receipts that could not be deleted. */
  ack(messages: QueueMessage[]): Promise<string[]>
  /** Makes messages visible again after `delayMs` (0: at once), e.g. on drain. */
  release(messages: QueueMessage[], delayMs?: number): Promise<void>
  /**
   * Makes messages visible again at once without counting this delivery toward the max receive
   * count, where the queue can: for deliveries that ended because of an outage, not the message.
   * The embedded queue takes the delivery off the count; SQS cannot undo a receive, so there it is
   * `release(messages, 0)` and its redrive policy's maxReceiveCount must leave room for outages.
   */
  handBack(messages: QueueMessage[]): Promise<void>
  /** Extends the invisibility of a message being worked on. */
  extend(message: QueueMessage, visibilityMs: number): Promise<void>
  /** Throws when the queue cannot be reached. */
  ping(): Promise<void>
}

/** Thrown by adapters when the queue cannot take or give messages right now (retryable). */
export class QueueUnavailable extends Error {
  override name = 'QueueUnavailable'
}

/** An embedded queue's depth: messages waiting or in flight, and when the oldest was sent (ms). */
export interface QueueDepth {
  queue: string
  messages: number
  oldestSentAt: number
}

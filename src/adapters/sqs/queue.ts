import { setTimeout as sleep } from 'node:timers/promises'
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type MessageSystemAttributeName,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { type Queue, type QueueMessage, QueueUnavailable } from '../../ports/queue.ts'
import { isAbort, isRetryableEntry, isStaleReceipt, toQueueError } from './errors.ts'

export interface SqsQueueOptions {
  client: SQSClient
  queueUrl: string
  /** Defaults to the last segment of the queue URL. */
  name?: string
  /** Defaults to whether the URL ends in `.fifo`. */
  fifo?: boolean
  /** Upper bound of one long poll (SQS allows at most 20). */
  waitTimeSeconds?: number
  /** Visibility timeout for received messages; the queue's own setting when omitted. */
  visibilityTimeoutSeconds?: number
}

// SQS limits: 10 entries per batch; a batch request's payload is capped (256 KiB before AWS raised
// it to 1 MiB in 2025; the lower figure works everywhere); visibility at most 12 hours.
const MAX_BATCH = 10
const MAX_BATCH_BYTES = 256 * 1024
const MAX_VISIBILITY_S = 12 * 3600
const SEND_ATTEMPTS = 3
/** FIFO queues require a group; messages without one share this group (and so one order). */
export const DEFAULT_GROUP_ID = 'paybridge'

/**
 * The Queue on Amazon SQS. At-least-once: a message is deleted only by `ack`; SQS itself moves it to
 * the dead-letter queue after the RedrivePolicy's maxReceiveCount (see `ensureQueue`). On a FIFO queue
 * `groupId` and `dedupId` map to MessageGroupId and MessageDeduplicationId; a standard queue ignores them
 * and may deliver a message twice or out of order.
 */
export function sqsQueue({
  client,
  queueUrl,
  name = queueUrl.split('/').pop() ?? queueUrl,
  fifo = queueUrl.endsWith('.fifo'),
  waitTimeSeconds = 20,
  visibilityTimeoutSeconds,
}: SqsQueueOptions): Queue {
  // Visibility changes in flight per receipt. A delete must wait for them: a ChangeMessageVisibility
  // landing after the delete fails, and one racing it can make the message visible again.
  const pending = new Map<string, Promise<void>>()
  const track = (receipts: string[], change: Promise<unknown>) => {
    const settled = change.then(
      () => {},
      () => {},
    )
    for (const receipt of receipts) {
      const done = Promise.all([pending.get(receipt), settled]).then(() => {
        if (pending.get(receipt) === done) pending.delete(receipt)
      })
      pending.set(receipt, done)
    }
  }
  const settle = (receipts: string[]) => Promise.all(receipts.map((r) => pending.get(r)))

  const systemAttributes: MessageSystemAttributeName[] = ['ApproximateReceiveCount', 'SentTimestamp']
  if (fifo) systemAttributes.push('MessageGroupId')

  async function sendBatch(entries: SendMessageBatchRequestEntry[]): Promise<void> {
    let left = entries
    // The SDK retries whole requests (throttling, 5xx, network); this retries entries SQS failed alone.
    for (let attempt = 1; ; attempt++) {
      const out = await client
        .send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: left }))
        .catch((error) => Promise.reject(toQueueError(error, `sending to ${name}`)))
      const failed = out.Failed ?? []
      if (failed.length === 0) return
      const refused = failed.find((f) => !isRetryableEntry(f))
      if (refused) throw new Error(`SQS refused a message for ${name}: ${refused.Code}: ${refused.Message}`)
      if (attempt >= SEND_ATTEMPTS) {
        throw new QueueUnavailable(`SQS failed ${failed.length} message(s) for ${name}: ${failed[0]?.Code}`)
      }
      const retry = new Set(failed.map((f) => f.Id))
      left = left.filter((e) => retry.has(e.Id))
      await sleep(100 * 4 ** (attempt - 1))
    }
  }

  // Single-message sends arriving in one event-loop turn go out together, up to 10 per request; each
  // caller resolves only when SQS has taken its message (and fails with its request).
  let waiting: { entry: SendMessageBatchRequestEntry; resolve: () => void; reject: (e: unknown) => void }[] =
    []
  function coalesce(entry: SendMessageBatchRequestEntry): Promise<void> {
    if (waiting.length === 0) setImmediate(flushWaiting)
    return new Promise<void>((resolve, reject) => waiting.push({ entry, resolve, reject }))
  }
  function flushWaiting(): void {
    const callers = waiting
    waiting = []
    const numbered = callers.map((c, i) => ({ ...c, entry: { ...c.entry, Id: String(i) } }))
    let offset = 0
    for (const batch of batchesOf(numbered.map((c) => c.entry))) {
      const inBatch = numbered.slice(offset, offset + batch.length)
      offset += batch.length
      sendBatch(batch).then(
        () => {
          for (const c of inBatch) c.resolve()
        },
        (error) => {
          for (const c of inBatch) c.reject(error)
        },
      )
    }
  }

  async function changeVisibility(receipts: string[], seconds: number): Promise<void> {
    for (const chunk of chunks(receipts, MAX_BATCH)) {
      const change = client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((receipt, i) => ({
            Id: String(i),
            ReceiptHandle: receipt,
            VisibilityTimeout: seconds,
          })),
        }),
      )
      track(chunk, change)
      const out = await change.catch((error) =>
        Promise.reject(toQueueError(error, `changing visibility on ${name}`)),
      )
      // A stale receipt means the message was deleted or handed out again: nothing of ours to change.
      const failed = (out.Failed ?? []).filter((f) => !isStaleReceipt(f.Code))
      if (failed.length > 0) {
        const first = failed[0]
        const message = `SQS failed to change visibility on ${name}: ${first?.Code}: ${first?.Message}`
        throw failed.every(isRetryableEntry) ? new QueueUnavailable(message) : new Error(message)
      }
    }
  }

  return {
    name,
    kind: 'sqs',

    async send(messages) {
      const entries = messages.map(
        (m, i): SendMessageBatchRequestEntry => ({
          Id: String(i),
          MessageBody: m.body,
          // Without a dedupId a FIFO message gets a fresh one (no dedup), as on the embedded queue; it
          // is fixed before the first attempt so a retried entry still dedupes.
          ...(fifo
            ? {
                MessageGroupId: m.groupId ?? DEFAULT_GROUP_ID,
                MessageDeduplicationId: m.dedupId ?? crypto.randomUUID(),
              }
            : {}),
        }),
      )
      // One message (the webhook's case): share a SendMessageBatch with concurrent callers.
      const [only] = entries
      if (entries.length === 1 && only) return coalesce(only)
      // Sequential batches keep a FIFO group's send order across batches.
      for (const batch of batchesOf(entries)) await sendBatch(batch)
    },

    async receive({ max, waitMs, signal }) {
      if (max <= 0 || signal?.aborted) return []
      const command = new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(max, MAX_BATCH),
        WaitTimeSeconds: Math.min(waitTimeSeconds, Math.ceil(Math.max(0, waitMs) / 1000)),
        MessageSystemAttributeNames: systemAttributes,
        ...(visibilityTimeoutSeconds === undefined ? {} : { VisibilityTimeout: visibilityTimeoutSeconds }),
      })
      try {
        // Aborting drops the HTTP request; any message SQS handed out on it reappears after its
        // visibility timeout, as an unacked delivery would.
        const out = await client.send(command, { abortSignal: signal })
        return (out.Messages ?? []).flatMap((m): QueueMessage[] => {
          if (!m.MessageId || !m.ReceiptHandle) return []
          const groupId = m.Attributes?.MessageGroupId
          return [
            {
              id: m.MessageId,
              body: m.Body ?? '',
              receipt: m.ReceiptHandle,
              receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
              sentAt: Number(m.Attributes?.SentTimestamp ?? Date.now()),
              ...(groupId && groupId !== DEFAULT_GROUP_ID ? { groupId } : {}),
            },
          ]
        })
      } catch (error) {
        if (isAbort(error) || signal?.aborted) return []
        throw toQueueError(error, `receiving from ${name}`)
      }
    },

    async ack(messages) {
      const receipts = messages.map((m) => m.receipt)
      await settle(receipts)
      const failed: string[] = []
      for (const chunk of chunks(receipts, MAX_BATCH)) {
        const out = await client
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((receipt, i) => ({ Id: String(i), ReceiptHandle: receipt })),
            }),
          )
          .catch((error) => Promise.reject(toQueueError(error, `deleting from ${name}`)))
        // AWS answers a stale (but well-formed) receipt with success and keeps the newer delivery.
        for (const f of out.Failed ?? []) {
          const receipt = chunk[Number(f.Id)]
          if (receipt !== undefined) failed.push(receipt)
        }
      }
      return failed
    },

    async release(messages, delayMs = 0) {
      await changeVisibility(
        messages.map((m) => m.receipt),
        toSeconds(delayMs),
      )
    },

    // SQS cannot take back a receive: the message is visible again, its count stays.
    async handBack(messages) {
      await changeVisibility(
        messages.map((m) => m.receipt),
        0,
      )
    },

    async extend(message, visibilityMs) {
      const change = client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: message.receipt,
          VisibilityTimeout: toSeconds(visibilityMs),
        }),
      )
      track([message.receipt], change)
      try {
        await change
      } catch (error) {
        // Lost the message (redelivered or deleted): its newer delivery owns it; ack will say so.
        if (isStaleReceipt(error)) return
        throw toQueueError(error, `extending on ${name}`)
      }
    },

    async ping() {
      try {
        await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
      } catch (error) {
        throw toQueueError(error, `pinging ${name}`)
      }
    },
  }
}

function toSeconds(ms: number): number {
  return Math.min(MAX_VISIBILITY_S, Math.max(0, Math.ceil(ms / 1000)))
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Up to 10 entries and MAX_BATCH_BYTES of bodies per batch, in order. */
function batchesOf(entries: SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const out: SendMessageBatchRequestEntry[][] = []
  let batch: SendMessageBatchRequestEntry[] = []
  let bytes = 0
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody ?? '')
    if (batch.length === MAX_BATCH || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      out.push(batch)
      batch = []
      bytes = 0
    }
    batch.push(entry)
    bytes += size
  }
  if (batch.length > 0) out.push(batch)
  return out
}

import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { Clock } from '../../ports/clock.ts'
import type { Log } from '../../ports/log.ts'
import type { Store } from '../../ports/store.ts'
import { sqsDeadLetterReason } from '../ledger/dead-letters.ts'
import { toQueueError } from './errors.ts'

export interface DeadLetterDrainOptions {
  client: SQSClient
  /** The source queue's name (as the Queue reports it): dead letters are kept under it, for replay. */
  queueName: string
  store: Pick<Store, 'deadLetter'>
  clock: Clock
  log: Log
  metrics?: { queueDeadLettered(queue: string, n: number): void } | undefined
}

interface Target {
  url: string
  maxReceiveCount: number
}

/**
 * Moves what SQS dead-lettered (the source queue's RedrivePolicy target, `<name>-dlq` when paybridge
 * provisioned it) into the ledger's dead letters, where `ledger dead-letters`, `/admin` and replay
 * see them: each message is kept with the reason "dead-lettered by SQS after N receives" and its
 * body, then deleted from the DLQ. Keep before delete: a crash between the two keeps it twice at
 * most, and the ledger's dead letters are unique per (queue, message id), which SQS keeps on redrive.
 */
export function sqsDeadLetterDrain(o: DeadLetterDrainOptions) {
  let target: Target | null | undefined

  async function find(): Promise<Target | null> {
    const { QueueUrl } = await o.client.send(new GetQueueUrlCommand({ QueueName: o.queueName }))
    const attrs = await o.client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['RedrivePolicy'] }),
    )
    const policy = attrs.Attributes?.RedrivePolicy
    if (!policy) return null
    const { deadLetterTargetArn, maxReceiveCount } = JSON.parse(policy) as {
      deadLetterTargetArn?: string
      maxReceiveCount?: number | string
    }
    const dlqName = deadLetterTargetArn?.split(':').pop()
    if (!dlqName) return null
    const dlq = await o.client.send(new GetQueueUrlCommand({ QueueName: dlqName }))
    if (!dlq.QueueUrl) return null
    return { url: dlq.QueueUrl, maxReceiveCount: Number(maxReceiveCount) }
  }

  return {
    /** One pass of up to 10 messages; `more` when the DLQ may hold more. */
    async drainOnce(): Promise<{ moved: number; more: boolean }> {
      try {
        target ??= await find()
        if (!target) return { moved: 0, more: false }
        const { url, maxReceiveCount } = target
        const out = await o.client.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        )
        const messages = (out.Messages ?? []).filter((m) => m.MessageId && m.ReceiptHandle)
        if (messages.length === 0) return { moved: 0, more: false }
        for (const m of messages) {
          await o.store.deadLetter(
            {
              queue: o.queueName,
              messageId: m.MessageId as string,
              body: m.Body ?? '',
              reason: sqsDeadLetterReason(maxReceiveCount),
              receiveCount: maxReceiveCount,
            },
            o.clock(),
          )
        }
        await o.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        )
        o.metrics?.queueDeadLettered(o.queueName, messages.length)
        o.log.warn('SQS dead-letter queue drained into the ledger; see `ledger dead-letters`', {
          queue: o.queueName,
          count: messages.length,
        })
        return { moved: messages.length, more: messages.length === 10 }
      } catch (error) {
        throw toQueueError(error, `draining the dead-letter queue of ${o.queueName}`)
      }
    },
  }
}

import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { isMissingQueue, toQueueError } from './errors.ts'

export interface EnsureQueueOptions {
  client: SQSClient
  /** Queue name; for FIFO the `.fifo` suffix is added when missing. */
  name: string
  fifo: boolean
  /** Receives after which SQS moves a message to the dead-letter queue. */
  maxReceiveCount: number
  visibilityTimeoutSeconds?: number
}

const FOURTEEN_DAYS_S = 14 * 24 * 3600

/** `<name>-dlq`, keeping `.fifo` as the suffix (SQS requires it on FIFO queue names). */
export function deadLetterQueueName(name: string, fifo: boolean): string {
  const base = name.replace(/\.fifo$/, '')
  return fifo ? `${base}-dlq.fifo` : `${base}-dlq`
}

/**
 * Creates the queue and its dead-letter queue `<name>-dlq` when missing, and (re)sets the queue's
 * RedrivePolicy so SQS moves a message there after `maxReceiveCount` receives. Safe to run at every
 * start-up. Returns the queue URL.
 */
export async function ensureQueue({
  client,
  name,
  fifo,
  maxReceiveCount,
  visibilityTimeoutSeconds,
}: EnsureQueueOptions): Promise<string> {
  const queueName = fifo ? `${name.replace(/\.fifo$/, '')}.fifo` : name
  const kind: Partial<Record<QueueAttributeName, string>> = fifo ? { FifoQueue: 'true' } : {}
  try {
    // Dead letters are kept for SQS's maximum retention so someone can look at them.
    const dlqUrl = await createIfMissing(client, deadLetterQueueName(name, fifo), {
      ...kind,
      MessageRetentionPeriod: String(FOURTEEN_DAYS_S),
    })
    const arn = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
    )
    const deadLetterTargetArn = arn.Attributes?.QueueArn
    if (!deadLetterTargetArn) throw new Error(`SQS returned no QueueArn for ${dlqUrl}`)

    const settings: Partial<Record<QueueAttributeName, string>> = {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount }),
      ...(visibilityTimeoutSeconds === undefined
        ? {}
        : { VisibilityTimeout: String(visibilityTimeoutSeconds) }),
    }
    const queueUrl = await createIfMissing(client, queueName, { ...kind, ...settings })
    // An existing queue keeps its old policy otherwise; FifoQueue cannot be changed after creation.
    await client.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: settings }))
    return queueUrl
  } catch (error) {
    throw toQueueError(error, `provisioning ${queueName}`)
  }
}

async function createIfMissing(
  client: SQSClient,
  name: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
): Promise<string> {
  try {
    const found = await client.send(new GetQueueUrlCommand({ QueueName: name }))
    if (found.QueueUrl) return found.QueueUrl
  } catch (error) {
    if (!isMissingQueue(error)) throw error
  }
  // CreateQueue is idempotent for equal attributes, so a concurrent start-up creating it too is fine.
  const created = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))
  if (!created.QueueUrl) throw new Error(`SQS returned no QueueUrl for ${name}`)
  return created.QueueUrl
}

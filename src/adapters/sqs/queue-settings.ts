import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { QueueProbe, QueueSettings } from '../../ports/doctor-probes.ts'
import { isMissingQueue } from './errors.ts'

/** Reads a queue's RedrivePolicy and VisibilityTimeout (GetQueueAttributes); changes nothing. */
export function sqsQueueProbe(deps: {
  client: SQSClient
  target: { url: string } | { name: string }
  /** What the queue carries, for the checklist (e.g. `Stark Bank events`). */
  carries: string
}): QueueProbe {
  const { client, target } = deps
  const byName = 'name' in target
  return {
    label: `${byName ? target.name : target.url} (${deps.carries})`,
    createdAtStart: byName,
    async settings(): Promise<QueueSettings | 'missing'> {
      try {
        const queueUrl = byName
          ? (await client.send(new GetQueueUrlCommand({ QueueName: target.name }))).QueueUrl
          : target.url
        const { Attributes: a = {} } = await client.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'],
          }),
        )
        const redrive = a.RedrivePolicy
          ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number | string })
          : undefined
        return {
          redrive: redrive && {
            deadLetterTargetArn: redrive.deadLetterTargetArn,
            maxReceiveCount: Number(redrive.maxReceiveCount),
          },
          visibilityTimeoutSeconds: Number(a.VisibilityTimeout ?? 30),
        }
      } catch (error) {
        if (isMissingQueue(error)) return 'missing'
        throw error
      }
    },
  }
}

import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs'
import { sqsClient } from '../../src/adapters/sqs/client.ts'

/**
 * What the SQS-compatible server itself sustains: `count` messages sent in batches of 10 (4 senders),
 * then received 10 at a time and deleted in batches by 4 loops, the way paybridge uses SQS, on
 * paybridge's own SQS client (`sqsClient`: the SDK on its fetch handler), so the reference is not
 * slowed by a costlier client than the one it is compared with. fauxqs stays far from a full core
 * here: the figure is bounded by the client's SDK CPU and round trips, not by the server.
 * Returns messages per second over send + receive + delete.
 */
export async function fauxqsRate(endpoint: string, count: number): Promise<number> {
  const client = sqsClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: `bench-raw-${Date.now()}` }))
  const body = 'x'.repeat(700)
  const started = performance.now()
  let toSend = Math.ceil(count / 10)
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (toSend-- > 0) {
        const entries = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: body }))
        await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }))
      }
    }),
  )
  let received = 0
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (received < count) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        )
        if (Messages.length === 0) continue
        received += Messages.length
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        )
      }
    }),
  )
  client.destroy()
  return Math.round(count / ((performance.now() - started) / 1000))
}

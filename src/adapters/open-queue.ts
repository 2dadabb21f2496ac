import type { SQSClient } from '@aws-sdk/client-sqs'
import type { Queue } from '../ports/queue.ts'
import { sqliteQueue } from './embedded-queue/queue.ts'
import type { Ledger } from './ledger/sqlite/database.ts'

/**
 * Receives SQS may spend on outages on top of `maxReceives`: SQS cannot take a receive back, so a
 * message in hand when the ledger went away keeps that receive (and a long poll racing the pause can
 * add one). The consumer pauses at the first outage failure, so each outage costs a message at most
 * a receive or two; whatever still reaches the DLQ is drained into the ledger's dead letters.
 */
export const SQS_OUTAGE_RECEIVES = 5

/** Where a queue lives: an SQS URL, an SQS name (created with its DLQ if missing), or embedded. */
export type QueueTarget = { url: string } | { name: string } | undefined

/**
 * Opens one of paybridge's queues: on SQS when a target is given, else the embedded SQLite queue
 * `embeddedName` in the ledger file. Dead-lettering after `maxReceives` either way.
 */
export async function openQueue(deps: {
  target: QueueTarget
  embeddedName: string
  /** The SQLite file the embedded queue lives in; only needed without an SQS target. */
  ledger: Ledger | undefined
  client: SQSClient | undefined
  visibilityMs: number
  maxReceives: number
}): Promise<Queue> {
  const { target, ledger, client, visibilityMs, maxReceives } = deps
  if (!target) {
    if (!ledger) throw new Error(`the embedded queue ${deps.embeddedName} needs the SQLite ledger`)
    return sqliteQueue({ ledger, name: deps.embeddedName, visibilityTimeoutMs: visibilityMs, maxReceives })
  }
  if (!client) throw new Error('an SQS client (AWS_REGION) is needed for an SQS queue')
  // Loaded only when SQS is used: the AWS SDK is the slowest module to load.
  const [{ ensureQueue }, { sqsQueue }] = await Promise.all([
    import('./sqs/provision.ts'),
    import('./sqs/queue.ts'),
  ])
  const visibilityTimeoutSeconds = Math.ceil(visibilityMs / 1000)
  const queueUrl =
    'url' in target
      ? target.url
      : await ensureQueue({
          client,
          name: target.name,
          fifo: target.name.endsWith('.fifo'),
          maxReceiveCount: maxReceives + SQS_OUTAGE_RECEIVES,
          visibilityTimeoutSeconds,
        })
  return sqsQueue({ client, queueUrl, visibilityTimeoutSeconds })
}

import type { HandleResult } from '../../app/record-bank-event.ts'
import type { Clock } from '../../ports/clock.ts'
import type { Log } from '../../ports/log.ts'
import type { Store } from '../../ports/store.ts'
import { isInfrastructureFailure } from '../ledger/ledger-failure.ts'

/** The parts of an AWS Lambda SQS event paybridge reads. */
export interface SqsLambdaEvent {
  Records: {
    messageId: string
    body: string
    attributes?: { ApproximateReceiveCount?: string; MessageGroupId?: string }
    eventSourceARN?: string
  }[]
}

/** Lambda's partial batch response: only these messages are retried (ReportBatchItemFailures). */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[]
}

/**
 * A Lambda handler for an SQS event source with the same ack rules as the queue consumer: a record
 * whose step committed, or that was dead-lettered in the ledger with its reason, succeeds; a record
 * whose handling threw is reported in `batchItemFailures`, so SQS redelivers it (and its redrive
 * policy dead-letters it after maxReceiveCount). The event source mapping must enable
 * `ReportBatchItemFailures`, or one failure would retry the whole batch. From a FIFO queue, a message
 * group stops at its first failed record: its later records are reported as failures unprocessed, so
 * SQS hands the group back in order (other groups go on). A ledger outage (`LedgerUnavailable`) stops
 * the whole batch: that record and all later ones are returned at once, with one warning, so an
 * outage costs each message one receive, not one per record tried.
 */
export function sqsBatchHandler(deps: {
  handle: (body: string) => Promise<HandleResult>
  store: Pick<Store, 'deadLetter'>
  clock: Clock
  log: Log
  maxBodyBytes?: number
}) {
  const maxBodyBytes = deps.maxBodyBytes ?? 64 * 1024
  return async (event: SqsLambdaEvent): Promise<SqsBatchResponse> => {
    const failures: { itemIdentifier: string }[] = []
    const stoppedGroups = new Set<string>()
    for (const [index, record] of event.Records.entries()) {
      const group = record.attributes?.MessageGroupId
      if (group !== undefined && stoppedGroups.has(group)) {
        failures.push({ itemIdentifier: record.messageId })
        continue
      }
      try {
        const bytes = Buffer.byteLength(record.body)
        const result: HandleResult =
          bytes > maxBodyBytes
            ? { kind: 'dead', reason: `body of ${bytes} bytes is over the ${maxBodyBytes}-byte limit` }
            : await deps.handle(record.body)
        if (result.kind === 'dead') {
          await deps.store.deadLetter(
            {
              queue: record.eventSourceARN?.split(':').at(-1) ?? 'lambda',
              messageId: record.messageId,
              body: record.body,
              reason: result.reason,
              receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
            },
            deps.clock(),
          )
          deps.log.warn('message dead-lettered', { messageId: record.messageId, reason: result.reason })
        }
      } catch (err) {
        if (isInfrastructureFailure(err)) {
          // The ledger is down, not the message: trying the rest would only spend their receives
          // toward the SQS redrive (the DLQ). All of them go back now, and SQS redelivers them.
          const rest = event.Records.slice(index).map((r) => ({ itemIdentifier: r.messageId }))
          deps.log.warn('ledger unavailable; the rest of the batch goes back to SQS unprocessed', {
            returned: `${rest.length} records`,
            error: err instanceof Error ? err.message : String(err),
          })
          return { batchItemFailures: [...failures, ...rest] }
        }
        deps.log.error('message handling failed; SQS will redeliver it', {
          messageId: record.messageId,
          error: err instanceof Error ? err.message : String(err),
        })
        failures.push({ itemIdentifier: record.messageId })
        if (group !== undefined) stoppedGroups.add(group)
      }
    }
    return { batchItemFailures: failures }
  }
}

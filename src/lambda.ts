import { consoleLog } from './adapters/console-log.ts'
import { type SqsLambdaEvent, sqsBatchHandler } from './adapters/lambda/sqs-batch.ts'
import { openStores } from './adapters/ledger/open.ts'
import { recordBankEvent } from './app/record-bank-event.ts'
import { loadConfig } from './config.ts'

// The worker as an AWS Lambda on an SQS event source (Bun runtime layer), the composition root of
// that deployment: built once per cold start, reused across invocations. Enable
// ReportBatchItemFailures on the event source mapping. Every instance must share the ledger, so set
// DATABASE_URL (PostgreSQL); a SQLite file works only for a single instance.

let built: Promise<ReturnType<typeof sqsBatchHandler>> | undefined

async function build(): Promise<ReturnType<typeof sqsBatchHandler>> {
  const config = loadConfig(process.env)
  const log = consoleLog({ level: config.logLevel, format: 'json' })
  const { store } = await openStores(config)
  const handle = recordBankEvent({
    store,
    destination: config.destination,
    payoutScope: config.payoutScope,
    clock: Date.now,
    log,
  })
  return sqsBatchHandler({ handle, store, clock: Date.now, log })
}

/**
 * Entry point named in the Lambda configuration as `src/lambda.handler`. A failed build (config, the
 * ledger unreachable) is not kept: the next invocation builds again, so an instance recovers once the
 * cause is gone instead of failing every batch for its whole life.
 */
export async function handler(event: SqsLambdaEvent) {
  built ??= build().catch((err: unknown) => {
    built = undefined
    throw err
  })
  return (await built)(event)
}

/**
 * Entry point for a scheduled Lambda (`src/lambda.drainHandler`, e.g. every minute): the SQS event
 * source never reads the dead-letter queue, so this does what the worker role does every 30 s —
 * moves what SQS dead-lettered from each configured queue's DLQ into the ledger's dead letters, with
 * the reason, where `ledger dead-letters` and /admin see and replay them. Answers how many it moved.
 */
export async function drainHandler(): Promise<{ moved: Record<string, number> }> {
  const config = loadConfig(process.env)
  const log = consoleLog({ level: config.logLevel, format: 'json' })
  if (!config.aws) throw new Error('AWS_REGION: required for the dead-letter drain (the queues are on SQS)')
  const { SQSClient } = await import('@aws-sdk/client-sqs')
  const { sqsDeadLetterDrain } = await import('./adapters/sqs/dead-letter-drain.ts')
  const client = new SQSClient({
    region: config.aws.region,
    ...(config.aws.endpoint ? { endpoint: config.aws.endpoint } : {}),
  })
  const names = [config.sqs?.queue, config.stripeQueue].flatMap((q) =>
    q === undefined ? [] : ['name' in q ? q.name : (new URL(q.url).pathname.split('/').pop() ?? '')],
  )
  const { store, close } = await openStores(config)
  try {
    const moved: Record<string, number> = {}
    for (const queueName of names) {
      const drain = sqsDeadLetterDrain({ client, queueName, store, clock: Date.now, log })
      moved[queueName] = 0
      // Passes of up to 10 messages, while the DLQ may hold more (bounded: a scheduled run ends).
      for (let pass = 0; pass < 100; pass++) {
        const once = await drain.drainOnce()
        moved[queueName] += once.moved
        if (!once.more) break
      }
    }
    return { moved }
  } finally {
    client.destroy()
    await close()
  }
}

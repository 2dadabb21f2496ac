import { consoleLog } from './adapters/console-log.ts'
import { type SqsLambdaEvent, sqsBatchHandler } from './adapters/lambda/sqs-batch.ts'
import { openStores } from './adapters/open-stores.ts'
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

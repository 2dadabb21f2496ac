import { consoleLog } from './adapters/console-log.ts'
import { type SqsLambdaEvent, sqsBatchHandler } from './adapters/lambda/sqs-batch.ts'
import { openLedger } from './adapters/sqlite/database.ts'
import { sqliteStore } from './adapters/sqlite/store.ts'
import { recordBankEvent } from './app/record-bank-event.ts'
import { loadConfig } from './config.ts'

// The worker as an AWS Lambda on an SQS event source (Bun runtime layer), the composition root of
// that deployment: built once per cold start, reused across invocations. Enable
// ReportBatchItemFailures on the event source mapping. The ledger must be one every instance shares.

let built: ReturnType<typeof sqsBatchHandler> | undefined

function build(): ReturnType<typeof sqsBatchHandler> {
  const config = loadConfig(process.env)
  const log = consoleLog({ level: config.logLevel, format: 'json' })
  const store = sqliteStore(openLedger(config.databasePath))
  const handle = recordBankEvent({ store, destination: config.destination, clock: Date.now, log })
  return sqsBatchHandler({ handle, store, clock: Date.now, log })
}

/** Entry point named in the Lambda configuration as `src/lambda.handler`. */
export async function handler(event: SqsLambdaEvent) {
  built ??= build()
  return built(event)
}

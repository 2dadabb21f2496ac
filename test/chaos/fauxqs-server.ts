// fauxqs on a fixed 127.0.0.1 port, optionally keeping its state in `dataDir` (SQLite) so that a
// restart finds the queues and messages it had, as Amazon SQS would after an outage.
//   bun run test/chaos/fauxqs-server.ts <port> [dataDir]
// Prints `listening <url>` once ready and exits when its parent closes stdin or on SIGTERM.
// fauxqs's own startFauxqs() binds 0.0.0.0; this wires its stores and persistence the same way
// around buildApp() bound to loopback (the classes are not in its exports map: loaded by file path).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildApp } from 'fauxqs'

const [portArg, dataDir] = process.argv.slice(2)
const port = Number(portArg ?? 0)
const dist = dirname(fileURLToPath(import.meta.resolve('fauxqs')))
const { SqsStore } = await import(join(dist, 'sqs/sqsStore.js'))
const { SnsStore } = await import(join(dist, 'sns/snsStore.js'))
const { S3Store } = await import(join(dist, 's3/s3Store.js'))
const { PersistenceManager } = await import(join(dist, 'persistence.js'))

const sqsStore = new SqsStore()
// Queue URLs then carry the host the client called (127.0.0.1:<port>), not sqs.<region>.localhost.
sqsStore.host = undefined
const snsStore = new SnsStore()
const s3Store = new S3Store()
const persistence = dataDir ? new PersistenceManager(dataDir) : undefined
if (persistence) {
  // Load before wiring, as fauxqs does: loading must not write back through the persistence.
  persistence.load(sqsStore, snsStore, s3Store)
  sqsStore.persistence = persistence
  snsStore.persistence = persistence
  s3Store.persistence = persistence
  for (const queue of sqsStore.allQueues()) queue.persistence = persistence
  // fauxqs 2.4.1 writes approximate_receive_count = NULL (a NOT NULL column) when a message becomes
  // visible again through ChangeMessageVisibility 0: the write throws after the message left the
  // in-flight map and before it is queued again, so it is lost until a restart. Keep the count.
  const ready = persistence.db.prepare(
    'UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE message_id = ?',
  )
  persistence.updateMessageReady = (messageId: string) => ready.run(messageId)
}

const app = buildApp({ logger: false, stores: { sqsStore, snsStore, s3Store } })
if (persistence) app.addHook('preClose', () => persistence.close())
const address = await app.listen({ port, host: '127.0.0.1' })
process.stdout.write(`listening ${address}\n`)

const stop = async () => {
  await app.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()

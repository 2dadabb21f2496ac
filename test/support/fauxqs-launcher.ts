// Runs fauxqs for the tests under Bun (fauxqs needs node:sqlite). Its stock command binds 0.0.0.0 and logs
// every request; this binds 127.0.0.1 on a free port, stays quiet, prints one line `listening <url>` and
// exits when its parent closes stdin, so a crashed test run leaves no server behind.
import { buildApp } from 'fauxqs'

// No `host` option: queue URLs then carry the host the client called (127.0.0.1:<port>), not
// sqs.<region>.localhost, which does not resolve here.
const app = buildApp({ logger: false })
if (process.env.FAUXQS_COUNT_CALLS) countCalls()
const address = await app.listen({ port: 0, host: '127.0.0.1' })
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

/**
 * For benchmarks: counts requests by action (X-Amz-Target) and the messages ReceiveMessage handed
 * out, served as JSON at GET /__calls.
 */
function countCalls() {
  const calls: Record<string, number> = {}
  let received = 0
  const action = (headers: Record<string, unknown>) =>
    String(headers['x-amz-target'] ?? 'other').replace('AmazonSQS.', '')
  app.addHook('onRequest', async (req: { headers: Record<string, unknown> }) => {
    const name = action(req.headers)
    calls[name] = (calls[name] ?? 0) + 1
  })
  app.addHook(
    'onSend',
    async (req: { headers: Record<string, unknown> }, _reply: unknown, payload: unknown) => {
      if (action(req.headers) === 'ReceiveMessage' && typeof payload === 'string')
        received += payload.split('"ReceiptHandle"').length - 1
      return payload
    },
  )
  app.get('/__calls', async () => ({ calls, received }))
}

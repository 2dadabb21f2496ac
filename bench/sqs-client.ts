/**
 * CPU per message of the SQS calls paybridge makes, on three clients, in one run against fauxqs on
 * loopback:
 *
 *   npx bun run bench/sqs-client.ts [messages=3000] [rounds=2]
 *
 * Each client gets its own queue: `messages` 1 KB bodies sent 10 a SendMessageBatch, then received 10
 * at a time, each receive followed by one DeleteMessageBatch (what the worker and the Stripe forwarder
 * do). CPU is this process's user + system time (fauxqs runs in its own process); the first round warms
 * up, the table shows the last. Every client checks each body's MD5, as the SDK does by default.
 * - baseline: `new SQSClient(config)` as the SDK's README builds it (node:http handler, JavaScript MD5);
 * - the SDK on its fetch handler, JavaScript MD5;
 * - paybridge's `sqsClient` (fetch handler, MD5 on Bun's native hasher).
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { FetchHttpHandler } from '@smithy/fetch-http-handler'
import { sqsClient } from '../src/adapters/sqs/client.ts'
import { fauxqsClientConfig, startFauxqs } from '../test/support/fauxqs.ts'
import { machineLine } from './support/machine.ts'

const messages = Number(process.argv[2] ?? 3000)
const rounds = Number(process.argv[3] ?? 2)
const body = JSON.stringify({
  event: { id: '4796145267628014', log: { type: 'credited' }, pad: 'x'.repeat(950) },
})
const fauxqs = await startFauxqs()
const config = { ...fauxqsClientConfig, endpoint: fauxqs.endpoint }
const clients: [string, () => SQSClient][] = [
  ['baseline: new SQSClient(config)', () => new SQSClient(config)],
  [
    'SDK on its fetch handler, JavaScript MD5',
    () => new SQSClient({ requestHandler: new FetchHttpHandler({ keepAlive: true }), ...config }),
  ],
  ["paybridge's sqsClient (fetch handler, native MD5)", () => sqsClient(config)],
]
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1000
}

async function measure(label: string, client: SQSClient, queue: string) {
  const url = (await client.send(new CreateQueueCommand({ QueueName: queue }))).QueueUrl as string
  const started = performance.now()
  const sendCpu = process.cpuUsage()
  for (let i = 0; i < messages; i += 10) {
    const Entries = Array.from({ length: 10 }, (_, j) => ({ Id: String(j), MessageBody: body }))
    await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }))
  }
  const send = cpuMs(sendCpu)
  const receiveCpu = process.cpuUsage()
  let received = 0
  while (received < messages) {
    const got =
      (await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }))).Messages ??
      []
    received += got.length
    if (got.length === 0) continue
    const Entries = got.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle as string }))
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries }))
  }
  const receive = cpuMs(receiveCpu)
  const seconds = (performance.now() - started) / 1000
  return {
    client: label,
    messages,
    'messages/s (send, then receive + delete)': Math.round((2 * messages) / seconds),
    'send CPU ms/message': (send / messages).toFixed(3),
    'receive + delete CPU ms/message': (receive / messages).toFixed(3),
    'total CPU ms/message': ((send + receive) / messages).toFixed(3),
  }
}

let rows: Awaited<ReturnType<typeof measure>>[] = []
for (let round = 0; round < rounds; round++) {
  rows = []
  for (const [i, [label, make]] of clients.entries()) {
    const client = make()
    rows.push(await measure(label, client, `bench-sqs-client-${round}-${i}`))
    client.destroy()
  }
}
await fauxqs.stop()
console.log(`\nSQS calls, CPU per message: ${messages} messages per client, round ${rounds} of ${rounds}`)
console.log(machineLine())
console.table(rows)
process.exit(0)

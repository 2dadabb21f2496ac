import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createHash } from 'node:crypto'
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import { NativeMd5, sqsClient } from '../src/adapters/sqs/client.ts'

// paybridge's SQS client checks every body's MD5 as the SDK does, on Bun's native hasher.

const md5 = (data: string | Uint8Array) => new Uint8Array(createHash('md5').update(data).digest())

describe('NativeMd5', () => {
  it('digests strings, bytes and chunked updates as MD5 does, and starts over after reset', async () => {
    const hash = new NativeMd5()
    hash.update('{"event":{"id":"1"}}')
    expect(await hash.digest()).toEqual(md5('{"event":{"id":"1"}}'))
    hash.reset()
    const bytes = new TextEncoder().encode('ação ✓ '.repeat(500))
    hash.update(bytes.subarray(0, 1000))
    hash.update(bytes.subarray(1000))
    expect(await hash.digest()).toEqual(md5(bytes))
    const empty = new NativeMd5()
    expect(await empty.digest()).toEqual(md5(''))
  })
})

describe('a received body whose MD5 does not match', () => {
  // A stand-in SQS endpoint (JSON protocol) answering one message with a wrong MD5OfBody.
  let server: ReturnType<typeof Bun.serve>
  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () =>
        Response.json(
          {
            Messages: [
              { MessageId: 'm-1', ReceiptHandle: 'r-1', Body: 'hello', MD5OfBody: '0'.repeat(32) },
              {
                MessageId: 'm-2',
                ReceiptHandle: 'r-2',
                Body: 'world',
                MD5OfBody: createHash('md5').update('world').digest('hex'),
              },
            ],
          },
          { headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-1' } },
        ),
    })
  })
  afterAll(() => server.stop(true))

  it("is refused by paybridge's client, naming the message", async () => {
    const client = sqsClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${server.port}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    })
    try {
      const receive = client.send(
        new ReceiveMessageCommand({ QueueUrl: `http://127.0.0.1:${server.port}/q` }),
      )
      await expect(receive).rejects.toThrow('Invalid MD5 checksum on messages: m-1')
    } finally {
      client.destroy()
    }
  })
})

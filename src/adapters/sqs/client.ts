import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs'
import { FetchHttpHandler } from '@smithy/fetch-http-handler'

/**
 * MD5 on Bun's native hasher. The SDK checks the MD5 of every body it sends and receives (SQS answers
 * each one's), and its own MD5 is JavaScript: with this one every check is still made, and a message
 * sent, received and deleted in batches of 10 costs 0.263-0.295 CPU ms instead of 0.290-0.347
 * (`bench/sqs-client.ts`, two runs).
 */
export class NativeMd5 {
  private hash = new Bun.CryptoHasher('md5')
  update(data: Uint8Array | string): void {
    this.hash.update(data)
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }
  reset(): void {
    this.hash = new Bun.CryptoHasher('md5')
  }
}

/**
 * The SQS client paybridge runs on: the AWS SDK with its fetch handler instead of its default
 * node:http one. Under Bun, node:http is a layer over sockets written in JavaScript; Bun's own fetch
 * (which keeps connections alive) costs about half the CPU per call: a receive of 10 + one
 * DeleteMessageBatch loop on fauxqs took 0.25–0.27 CPU ms per message against 0.42–0.53
 * (`bench/stripe-forwarding.ts`, the `sqs drain` row, back to back). Aborting a call through its
 * `abortSignal` still ends the request (the consumer's long poll on stop).
 */
export function sqsClient(config: SQSClientConfig): SQSClient {
  return new SQSClient({
    requestHandler: new FetchHttpHandler({ keepAlive: true }),
    md5: NativeMd5,
    ...config,
  })
}

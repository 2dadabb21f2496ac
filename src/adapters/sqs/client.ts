import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs'
import { FetchHttpHandler } from '@smithy/fetch-http-handler'

/**
 * The SQS client paybridge runs on: the AWS SDK with its fetch handler instead of its default
 * node:http one. Under Bun, node:http is a layer over sockets written in JavaScript; Bun's own fetch
 * (which keeps connections alive) costs about half the CPU per call: a receive of 10 + one
 * DeleteMessageBatch loop on fauxqs took 0.25–0.27 CPU ms per message against 0.42–0.53
 * (`bench/stripe-forwarding.ts`, the `sqs drain` row, back to back). Aborting a call through its
 * `abortSignal` still ends the request (the consumer's long poll on stop).
 */
export function sqsClient(config: SQSClientConfig): SQSClient {
  return new SQSClient({ requestHandler: new FetchHttpHandler({ keepAlive: true }), ...config })
}

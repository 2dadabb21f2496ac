import { QueueUnavailable } from '../../ports/queue.ts'

// Small mappers from what the AWS SDK throws to what paybridge acts on. SDK v3 service errors carry
// `name` (the SQS error code), `$fault` and `$metadata.httpStatusCode`; network failures carry a
// Node-style `code` and no `$metadata`.

const THROTTLING = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'KmsThrottled',
  'RequestLimitExceeded',
  'SlowDown',
])

const TRANSIENT = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
])

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ConnectionRefused',
  'ConnectionClosed',
  'FailedToOpenSocket',
])

// The receipt no longer names a delivery we hold (deleted, redelivered, or expired).
const STALE_RECEIPT = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidParameterValue'])

interface SdkErrorShape {
  name?: string
  code?: string
  $fault?: 'client' | 'server'
  $metadata?: { httpStatusCode?: number }
  $retryable?: { throttling?: boolean }
}

const shape = (error: unknown): SdkErrorShape =>
  typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {}

/** Throttling, a 5xx, a timeout or a broken connection: trying again later may work. */
export function isRetryable(error: unknown): boolean {
  const e = shape(error)
  const status = e.$metadata?.httpStatusCode ?? 0
  return (
    THROTTLING.has(e.name ?? '') ||
    TRANSIENT.has(e.name ?? '') ||
    NETWORK.has(e.code ?? '') ||
    NETWORK.has(e.name ?? '') ||
    e.$retryable !== undefined ||
    e.$fault === 'server' ||
    status >= 500 ||
    status === 429
  )
}

/** A batch entry failure worth retrying: SQS says the fault is not the sender's, or it throttled. */
export function isRetryableEntry(entry: { Code?: string; SenderFault?: boolean }): boolean {
  return entry.SenderFault !== true || THROTTLING.has(entry.Code ?? '')
}

/** The request was cancelled through its AbortSignal. */
export function isAbort(error: unknown): boolean {
  return shape(error).name === 'AbortError'
}

/** The SQS error code (or batch entry code) says the receipt is stale. */
export function isStaleReceipt(errorOrCode: unknown): boolean {
  const code = typeof errorOrCode === 'string' ? errorOrCode : shape(errorOrCode).name
  return STALE_RECEIPT.has(code ?? '')
}

/** Retryable failures become `QueueUnavailable`; anything else (config, bugs) is rethrown as is. */
export function toQueueError(error: unknown, doing: string): unknown {
  if (!isRetryable(error)) return error
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return new QueueUnavailable(`SQS unavailable while ${doing}: ${detail}`, { cause: error })
}

/** The queue does not exist (the JSON protocol's name, or the query protocol's code). */
export function isMissingQueue(error: unknown): boolean {
  const e = shape(error) as SdkErrorShape & { Code?: string }
  return e.name === 'QueueDoesNotExist' || e.Code === 'AWS.SimpleQueueService.NonExistentQueue'
}

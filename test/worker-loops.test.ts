import { describe, expect, it } from 'bun:test'
import { messagesPerLoop } from '../src/roles/worker.ts'

// How many messages each receive loop of the worker may hold, from WORKER_CONCURRENCY and
// SQS_RECEIVE_LOOPS: what bounds every receive, ledger transaction and delete of a loop.

describe('worker receive loops', () => {
  it('lets each SQS loop hold at least one full receive of 10 however small its share', () => {
    expect(messagesPerLoop(16, 4, 'sqs')).toBe(10)
    expect(messagesPerLoop(1, 1, 'sqs')).toBe(10)
    expect(messagesPerLoop(4, 20, 'sqs')).toBe(10)
  })

  it('rounds an SQS loop share up to whole receives of 10', () => {
    expect(messagesPerLoop(32, 2, 'sqs')).toBe(20)
    expect(messagesPerLoop(30, 1, 'sqs')).toBe(30)
    expect(messagesPerLoop(31, 1, 'sqs')).toBe(40)
  })

  it('gives the embedded queue its share of WORKER_CONCURRENCY as it is', () => {
    expect(messagesPerLoop(32, 1, 'embedded')).toBe(32)
    expect(messagesPerLoop(7, 1, 'embedded')).toBe(7)
  })
})

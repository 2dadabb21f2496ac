import { describe, expect, it } from 'bun:test'
import { replayAction, replaysForward } from '../../src/domain/forward.ts'

describe('a Stripe forward replay', () => {
  it('requeues a dead forward, and sends a delivered one again only when forced', () => {
    expect(replayAction('dead', false)).toBe('requeue')
    expect(replayAction('delivered', undefined)).toBe('skip-delivered')
    expect(replayAction('delivered', true)).toBe('resend')
  })

  it('leaves a pending forward alone, forced or not', () => {
    expect(replayAction('pending', true)).toBe('skip-pending')
    expect(replaysForward('skip-pending')).toBe(false)
  })

  it('puts back in the outbox exactly what it requeues or resends', () => {
    expect(replaysForward('requeue')).toBe(true)
    expect(replaysForward('resend')).toBe(true)
    expect(replaysForward('skip-delivered')).toBe(false)
  })
})

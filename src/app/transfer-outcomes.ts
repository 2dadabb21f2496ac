import { leaseBudget } from '../domain/lease.ts'
import type { Random } from '../domain/random.ts'
import { type BackoffPolicy, backoffMs } from '../domain/retry.ts'
import { BankError, type BankTransfer } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { ClaimedTransfer, Fenced, Store } from '../ports/store.ts'
import { bankFault, faultReason } from './bank-faults.ts'
import type { relayCircuit } from './relay-circuit.ts'
import type { RelayReport } from './relay-transfers.ts'

/** One relay pass: what it did, whether the bank refused access meanwhile, and its lease's room. */
export type Pass = RelayReport & { tripped: boolean; lease: ReturnType<typeof leaseBudget> }

/** A report of a pass that did nothing. */
export const nothingDone = (): RelayReport => ({
  created: 0,
  retried: 0,
  dead: 0,
  released: 0,
  stale: 0,
  deferred: 0,
})

/** A pass that has done nothing yet, under a claim whose lease ends at `leaseEndsAt`. */
export const freshPass = (leaseEndsAt: number, callTimeoutMs: number | undefined): Pass => ({
  ...nothingDone(),
  tripped: false,
  lease: leaseBudget(leaseEndsAt, callTimeoutMs),
})

/**
 * What the relay writes for a claimed transfer after each Stark Bank call: created, given back
 * unsent (circuit open, or no room left in the lease), kept open for a lookup and retry, or dead.
 * Every write is fenced by the claim; a write another relay's claim refused is counted stale.
 */
export function transferOutcomes(deps: {
  store: Store
  clock: Clock
  random: Random
  log: Log
  metrics: Pick<Metrics, 'relayStaleWrite'> | undefined
  circuit: ReturnType<typeof relayCircuit>
  policy: BackoffPolicy
  maxAttempts: number
}) {
  const { store, clock, random, log, metrics, circuit, policy, maxAttempts } = deps

  function recorded(pass: Pass, c: ClaimedTransfer, step: string, result: Fenced): boolean {
    if (result.kind === 'written') return true
    pass.stale++
    metrics?.relayStaleWrite(step)
    log.warn('relay lost its claim: another relay took this transfer over', {
      transferId: c.transferId,
      attempt: c.attempt,
      step,
    })
    return false
  }

  async function created(pass: Pass, c: ClaimedTransfer, t: BankTransfer, how: string) {
    // Stark Bank's word is recorded even for a lost claim; `stale` only says another relay had it.
    recorded(pass, c, 'created', await store.transferCreated(c, { id: t.id, status: t.status }, clock()))
    pass.created++
    log.info(`transfer ${how}`, {
      transferId: c.transferId,
      bankTransferId: t.id,
      amountCents: t.amount,
      attempt: c.attempt,
    })
  }

  /** Gives a claim back unsent, counting no attempt: the circuit is open. */
  async function release(pass: Pass, c: ClaimedTransfer, reason: string) {
    const error = `not sent: Stark Bank refused paybridge's access (${reason}); waiting for the relay circuit to close`
    if (
      recorded(
        pass,
        c,
        'release',
        await store.transferRetry(c, { error, nextAttemptAt: clock(), uncounted: true }, clock()),
      )
    )
      pass.released++
  }

  /** Whether `calls` more Stark Bank calls can all end before this pass's lease does. */
  const room = (pass: Pass, calls: number) => pass.lease.allows(clock(), calls)

  /** Gives a claim back, counting no attempt, for the next claim to take with a fresh lease. */
  async function defer(pass: Pass, c: ClaimedTransfer) {
    const error = 'not sent yet: the relay lease had no room left for its Stark Bank calls'
    const result = await store.transferRetry(c, { error, nextAttemptAt: clock(), uncounted: true }, clock())
    if (recorded(pass, c, 'defer', result)) pass.deferred++
  }

  /**
   * A failed call for `claims`: relay-wide faults open the circuit; the rest are each claim's.
   * `sent`: the failed call was the send, so it may have reached Stark Bank.
   */
  async function failed(pass: Pass, claims: ClaimedTransfer[], err: unknown, sent: boolean) {
    if (bankFault(err) === 'relay-wide') {
      pass.tripped = true
      circuit.trip(faultReason(err))
      for (const c of claims) await release(pass, c, faultReason(err))
      return
    }
    for (const c of claims) await keepOpen(pass, c, faultReason(err), { sent, retryAfterMs: retryAfter(err) })
  }

  const retryAfter = (err: unknown) => (err instanceof BankError ? err.retryAfterMs : undefined)

  /**
   * The transfer stays open, never dead: its outcome at Stark Bank is unknown (timeout, network, 5xx,
   * a failed lookup, an externalId refusal not found yet), or Stark Bank refused it while an earlier
   * attempt may have created it (`refused`). `sent`: this claim's send may have reached Stark Bank,
   * which the ledger remembers (at_bank_at, in the same fenced write) so no later refusal makes it
   * dead. It is looked up and sent again at the capped backoff for as long as it takes (the same
   * externalId is safe); it is flagged unresolved at once when refused, else past `maxAttempts`,
   * with one error log when it is first flagged.
   */
  async function keepOpen(
    pass: Pass,
    c: ClaimedTransfer,
    message: string,
    how: { sent: boolean; refused?: boolean; retryAfterMs?: number | undefined },
  ) {
    const tooMany = c.tries >= maxAttempts
    const unresolved = how.refused === true || tooMany
    const error = how.refused
      ? `unresolved: Stark Bank refused it (${message}) but an earlier attempt may have created it; still looking it up`
      : tooMany
        ? `unresolved after ${c.tries} attempts: ${message}; still retrying`
        : message
    const delay = backoffMs(c.tries, random, policy, how.retryAfterMs)
    const result = await store.transferRetry(
      c,
      {
        error,
        nextAttemptAt: clock() + delay,
        ...(how.sent ? { atBank: true } : {}),
        ...(unresolved ? { unresolved: true } : {}),
      },
      clock(),
    )
    if (!recorded(pass, c, 'retry', result)) return
    pass.retried++
    const fields = { transferId: c.transferId, attempt: c.attempt, error: message, retryInMs: delay }
    if (unresolved && !c.unresolved) {
      log.error('transfer unresolved: it may exist at Stark Bank but is not confirmed; still retrying', {
        ...fields,
        tries: c.tries,
        action: 'do not pay it by hand: it may exist at Stark Bank; look for its externalId there',
        externalId: c.plan.externalId,
      })
      return
    }
    log.warn('transfer outcome not known yet; will look it up and retry', fields)
  }

  return { recorded, created, release, room, defer, failed, keepOpen }
}

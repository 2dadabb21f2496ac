import { leaseBudget, STARK_CALLS_PER_TRANSFER } from '../domain/lease.ts'
import type { Random } from '../domain/random.ts'
import { type BackoffPolicy, backoffMs } from '../domain/retry.ts'
import { TRANSFER_TAG } from '../domain/transfer.ts'
import type { TransferLimits } from '../domain/transfer-limits.ts'
import { type Bank, BankError, type BankTransfer } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { ClaimedTransfer, Fenced, Store } from '../ports/store.ts'
import { bankFault, faultReason } from './bank-faults.ts'
import { relayCircuit } from './relay-circuit.ts'

export interface RelayOptions {
  store: Store
  bank: Bank
  clock: Clock
  random: Random
  log: Log
  metrics?: Pick<Metrics, 'relayCircuit' | 'relayStaleWrite'>
  /** Stark Bank takes at most 100 transfers a call. */
  batchSize?: number
  /** How long a claimed row is ours before another relay may take it (crash recovery). */
  leaseMs?: number
  /**
   * The longest one Stark Bank call may take (STARK_TIMEOUT_MS). No call is started unless it ends
   * before the claim's lease does; the transfers not reached are given back for the next claim.
   */
  callTimeoutMs?: number
  backoff?: BackoffPolicy
  /** Waits between probes while Stark Bank refuses paybridge's access. */
  circuitBackoff?: BackoffPolicy
  /**
   * Tries after which a transfer whose outcome is still unknown is flagged unresolved (error log,
   * paybridge_transfers_unresolved, its reason). It is retried all the same: only Stark Bank's
   * definitive refusal makes a transfer dead.
   */
  maxAttempts?: number
  /** Over these, transfers wait in the outbox for an operator's approval. */
  limits?: TransferLimits
  /** While true nothing is sent; every transfer stays in the outbox. */
  paused?: () => boolean
}

export interface RelayReport {
  created: number
  retried: number
  dead: number
  /** Claims given back unsent because Stark Bank refused paybridge's access (circuit open). */
  released: number
  /** Outcomes not recorded because another relay had taken the transfer over. */
  stale: number
  /** Claims given back unsent because the lease had no room left for their Stark Bank calls. */
  deferred: number
}

/**
 * Sends the outbox's transfers to Stark Bank, each with its externalId as the idempotency key.
 * A row claimed before is looked up by tag before it is sent again. Dead only for Stark Bank's
 * refusal (a 4xx with its error list, not about the externalId, not an access fault) of a transfer
 * no attempt of which may have reached it (no at_bank_at). Everything else stays open and is looked
 * up and retried: flagged unresolved past the retry limit, or at once when refused after a send whose
 * outcome was unknown. A 4xx without Stark Bank's list, like an access fault, opens the circuit.
 * Every outcome is written under the claim it came from: a relay whose lease ran out changes nothing.
 */
export function transferRelay(options: RelayOptions) {
  const { store, bank, clock, random, log, metrics } = options
  const batchSize = Math.min(100, options.batchSize ?? 100)
  const leaseMs = options.leaseMs ?? 60_000
  const policy = options.backoff ?? { baseMs: 1_000, capMs: 5 * 60_000 }
  const maxAttempts = options.maxAttempts ?? 50
  const circuit = relayCircuit({ clock, random, log, metrics, backoff: options.circuitBackoff })

  /** One relay pass: what it did, whether the bank refused access meanwhile, and its lease's room. */
  type Pass = RelayReport & { tripped: boolean; lease: ReturnType<typeof leaseBudget> }

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

  async function lookup(c: ClaimedTransfer): Promise<BankTransfer | undefined> {
    const tag = c.plan.tags.find((t) => t !== TRANSFER_TAG) ?? TRANSFER_TAG
    const found = await bank.findTransfers([tag])
    return found.find((t) => t.externalId === c.plan.externalId)
  }

  async function created(pass: Pass, c: ClaimedTransfer, t: BankTransfer, how: string) {
    // Stark Bank's word is recorded even for a lost claim; `stale` only says another relay had it.
    recorded(pass, c, 'created', await store.transferCreated(c, { id: t.id, status: t.status }, clock()))
    pass.created++
    log.info(`transfer ${how}`, {
      transferId: c.transferId,
      bankTransferId: t.id,
      amount: t.amount,
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

  async function send(pass: Pass, batch: ClaimedTransfer[]): Promise<void> {
    if (pass.tripped) {
      for (const c of batch) await release(pass, c, 'circuit opened during this pass')
      return
    }
    // Room for this call and, for a single transfer, the lookup after a duplicate refusal.
    if (!room(pass, 2)) {
      for (const c of batch) await defer(pass, c)
      return
    }
    let result: BankTransfer[]
    try {
      result = await bank.createTransfers(batch.map((c) => c.plan))
    } catch (err) {
      const fault = bankFault(err)
      if (fault === 'relay-wide' || fault === 'unknown') return failed(pass, batch, err, true)
      // Stark Bank rejects a whole batch for one bad transfer: isolate it by sending one at a time.
      if (batch.length > 1) {
        for (const c of batch) await send(pass, [c])
        return
      }
      const c = batch[0] as ClaimedTransfer
      const reason = faultReason(err)
      if (fault === 'duplicate') return confirm(pass, c, reason)
      // An earlier attempt may have created it: a refusal now proves nothing about that one.
      if (c.atBank) return keepOpen(pass, c, reason, { sent: false, refused: true })
      if (!recorded(pass, c, 'dead', await store.transferDead(c, reason, clock()))) return
      pass.dead++
      log.error('transfer rejected by Stark Bank', { transferId: c.transferId, reason })
      return
    }
    const byExternal = new Map(result.map((t) => [t.externalId, t]))
    const done: { c: ClaimedTransfer; t: BankTransfer }[] = []
    for (const c of batch) {
      const t = byExternal.get(c.plan.externalId)
      if (t) done.push({ c, t })
      else await keepOpen(pass, c, 'Stark Bank did not return this transfer', { sent: true })
    }
    // The whole batch's outcome in one transaction.
    const outcomes = await store.transfersCreated(
      done.map(({ c, t }) => ({ claim: c, bank: { id: t.id, status: t.status } })),
      clock(),
    )
    done.forEach(({ c, t }, i) => {
      recorded(pass, c, 'created', outcomes[i] ?? { kind: 'written' })
      pass.created++
      log.info('transfer created', {
        transferId: c.transferId,
        bankTransferId: t.id,
        amount: t.amount,
        attempt: c.attempt,
      })
    })
  }

  /** Stark Bank refused the externalId (`reason`): the transfer may exist there; find it, or look again. */
  async function confirm(pass: Pass, c: ClaimedTransfer, reason: string) {
    const later = (note: string) =>
      keepOpen(pass, c, `may exist at Stark Bank (it refused the externalId: ${reason}); ${note}`, {
        sent: true,
      })
    if (!room(pass, 1)) return later('the relay lease had no room left for the lookup')
    try {
      const existing = await lookup(c)
      if (existing) return await created(pass, c, existing, 'found already created')
      await later('not found by lookup yet; looking again')
    } catch (err) {
      if (bankFault(err) === 'relay-wide') return failed(pass, [c], err, false)
      await later(`its lookup failed: ${faultReason(err)}`)
    }
  }

  let pausedLogged = false
  const idle = (): RelayReport & { claimed: number; held: number } => ({
    created: 0,
    retried: 0,
    dead: 0,
    released: 0,
    stale: 0,
    deferred: 0,
    claimed: 0,
    held: 0,
  })

  /** Claims one batch of due transfers and relays it (one transfer when probing an open circuit). */
  async function relayOnce(): Promise<RelayReport & { claimed: number; held: number }> {
    if (options.paused?.()) {
      if (!pausedLogged) log.warn('transfers are paused (TRANSFERS_PAUSED); the outbox keeps them')
      pausedLogged = true
      return idle()
    }
    pausedLogged = false
    if (!circuit.mayClaim()) return idle()
    const probing = circuit.isOpen()
    const claimedAt = clock()
    const { claimed, held } = await store.claimTransfers(
      probing ? 1 : batchSize,
      claimedAt,
      leaseMs,
      options.limits,
    )
    for (const h of held) log.warn('transfer held for approval', h)
    const pass: Pass = {
      created: 0,
      retried: 0,
      dead: 0,
      released: 0,
      stale: 0,
      deferred: 0,
      tripped: false,
      lease: leaseBudget(claimedAt + leaseMs, options.callTimeoutMs),
    }
    const fresh: ClaimedTransfer[] = []
    for (const c of claimed) {
      if (pass.tripped) {
        await release(pass, c, 'circuit opened during this pass')
        continue
      }
      if (c.attempt === 1) {
        fresh.push(c)
        continue
      }
      // An earlier attempt may have reached Stark Bank before it failed or the process died (and
      // at_bank_at says one did): look it up first, send it again (same externalId) if not found.
      // Room for the lookup, the send and the lookup after a duplicate refusal.
      if (!room(pass, STARK_CALLS_PER_TRANSFER)) {
        await defer(pass, c)
        continue
      }
      try {
        const existing = await lookup(c)
        if (existing) await created(pass, c, existing, 'found already created')
        else fresh.push(c)
      } catch (err) {
        await failed(pass, [c], err, false)
      }
    }
    if (fresh.length > 0) await send(pass, fresh)
    if (probing && !pass.tripped && claimed.length > 0) circuit.close()
    if (pass.deferred > 0) {
      log.warn('relay lease had no room for more Stark Bank calls; the rest go with the next claim', {
        deferred: pass.deferred,
        leaseMs,
        callTimeoutMs: options.callTimeoutMs,
      })
    }
    const { tripped: _, lease: __, ...report } = pass
    return { ...report, claimed: claimed.length, held: held.length }
  }

  return { relayOnce, readiness: circuit.readiness }
}

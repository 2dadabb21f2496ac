import { STARK_CALLS_PER_TRANSFER } from '../domain/lease.ts'
import type { Random } from '../domain/random.ts'
import type { BackoffPolicy } from '../domain/retry.ts'
import { TRANSFER_TAG } from '../domain/transfer.ts'
import type { TransferLimits } from '../domain/transfer-limits.ts'
import type { Bank, BankTransfer } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { ClaimedTransfer, Store } from '../ports/store.ts'
import { bankFault, faultReason } from './bank-faults.ts'
import { relayCircuit } from './relay-circuit.ts'
import { freshPass, nothingDone, type Pass, transferOutcomes } from './transfer-outcomes.ts'

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

  const { recorded, created, release, room, defer, failed, keepOpen } = transferOutcomes({
    store,
    clock,
    random,
    log,
    metrics,
    circuit,
    policy,
    maxAttempts,
  })

  async function lookup(c: ClaimedTransfer): Promise<BankTransfer | undefined> {
    const tag = c.plan.tags.find((t) => t !== TRANSFER_TAG) ?? TRANSFER_TAG
    const found = await bank.findTransfers([tag])
    return found.find((t) => t.externalId === c.plan.externalId)
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
        amountCents: t.amount,
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
    ...nothingDone(),
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
    const pass = freshPass(claimedAt + leaseMs, options.callTimeoutMs)
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

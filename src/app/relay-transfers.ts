import type { Random } from '../domain/random.ts'
import { type BackoffPolicy, backoffMs } from '../domain/retry.ts'
import { TRANSFER_TAG } from '../domain/transfer.ts'
import { checkTransferLimits, type TransferLimits, utcDayStart } from '../domain/transfer-limits.ts'
import { type Bank, BankError, type BankErrorDetail, type BankTransfer } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { ClaimedTransfer, Store } from '../ports/store.ts'

export interface RelayOptions {
  store: Store
  bank: Bank
  clock: Clock
  random: Random
  log: Log
  /** Stark Bank takes at most 100 transfers a call. */
  batchSize?: number
  /** How long a claimed row is ours before another relay may take it (crash recovery). */
  leaseMs?: number
  backoff?: BackoffPolicy
  /** Transient failures are retried this many times, then the transfer is dead. */
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
}

/** Duplicate externalId: the transfer exists at Stark Bank (an earlier attempt got through). */
function isDuplicate(details: BankErrorDetail[]): boolean {
  return details.some((d) => /external.?id/i.test(`${d.code} ${d.message}`))
}

/**
 * Sends the outbox's transfers to Stark Bank, each with its externalId as the idempotency key.
 * A row whose earlier attempt ended unknown (timeout, crash) is looked up by tag before it is sent again.
 */
export function transferRelay(options: RelayOptions) {
  const { store, bank, clock, random, log } = options
  const batchSize = Math.min(100, options.batchSize ?? 100)
  const leaseMs = options.leaseMs ?? 60_000
  const policy = options.backoff ?? { baseMs: 1_000, capMs: 5 * 60_000 }
  const maxAttempts = options.maxAttempts ?? 50

  async function lookup(c: ClaimedTransfer): Promise<BankTransfer | undefined> {
    const tag = c.plan.tags.find((t) => t !== TRANSFER_TAG) ?? TRANSFER_TAG
    const found = await bank.findTransfers([tag])
    return found.find((t) => t.externalId === c.plan.externalId)
  }

  async function created(c: ClaimedTransfer, t: BankTransfer, how: string, report: RelayReport) {
    await store.transferCreated(c.transferId, { id: t.id, status: t.status }, clock())
    report.created++
    log.info(`transfer ${how}`, {
      transferId: c.transferId,
      bankTransferId: t.id,
      amount: t.amount,
      attempt: c.attempt,
    })
  }

  async function retryOrDie(c: ClaimedTransfer, err: BankError | Error, report: RelayReport) {
    const message = err.message
    if (c.attempt >= maxAttempts) {
      await store.transferDead(c.transferId, `gave up after ${c.attempt} attempts: ${message}`, clock())
      report.dead++
      log.error('transfer dead after retries', {
        transferId: c.transferId,
        attempt: c.attempt,
        error: message,
      })
      return
    }
    const retryAfter = err instanceof BankError ? err.retryAfterMs : undefined
    const delay = backoffMs(c.attempt, random, policy, retryAfter)
    await store.transferRetry(c.transferId, message, clock() + delay, clock())
    report.retried++
    log.warn('transfer call failed; will retry', {
      transferId: c.transferId,
      attempt: c.attempt,
      error: message,
      retryInMs: delay,
    })
  }

  async function send(batch: ClaimedTransfer[], report: RelayReport): Promise<void> {
    try {
      const result = await bank.createTransfers(batch.map((c) => c.plan))
      const byExternal = new Map(result.map((t) => [t.externalId, t]))
      const done: { c: ClaimedTransfer; t: BankTransfer }[] = []
      for (const c of batch) {
        const t = byExternal.get(c.plan.externalId)
        if (t) done.push({ c, t })
        else await retryOrDie(c, new Error('Stark Bank did not return this transfer'), report)
      }
      // The whole batch's outcome in one transaction.
      await store.transfersCreated(
        done.map(({ c, t }) => ({ transferId: c.transferId, bank: { id: t.id, status: t.status } })),
        clock(),
      )
      report.created += done.length
      for (const { c, t } of done) {
        log.info('transfer created', {
          transferId: c.transferId,
          bankTransferId: t.id,
          amount: t.amount,
          attempt: c.attempt,
        })
      }
    } catch (err) {
      if (!(err instanceof BankError) || err.kind === 'transient') {
        for (const c of batch) await retryOrDie(c, err as Error, report)
        return
      }
      // Stark Bank rejects a whole batch for one bad transfer: isolate it by sending one at a time.
      if (batch.length > 1) {
        for (const c of batch) await send([c], report)
        return
      }
      const [c] = batch as [ClaimedTransfer]
      if (isDuplicate(err.details)) {
        const existing = await lookup(c).catch(() => undefined)
        if (existing) return await created(c, existing, 'found already created', report)
      }
      const reason = err.details.map((d) => `${d.code}: ${d.message}`).join('; ') || err.message
      await store.transferDead(c.transferId, reason, clock())
      report.dead++
      log.error('transfer rejected by Stark Bank', { transferId: c.transferId, reason })
    }
  }

  const limits = options.limits ?? {
    maxPerTransfer: Number.MAX_SAFE_INTEGER,
    maxPerDay: Number.MAX_SAFE_INTEGER,
  }
  let pausedLogged = false

  /** Claims one batch of due transfers and relays it. */
  async function relayOnce(): Promise<RelayReport & { claimed: number; held: number }> {
    const report: RelayReport = { created: 0, retried: 0, dead: 0 }
    if (options.paused?.()) {
      if (!pausedLogged) log.warn('transfers are paused (TRANSFERS_PAUSED); the outbox keeps them')
      pausedLogged = true
      return { ...report, claimed: 0, held: 0 }
    }
    pausedLogged = false
    const claimed = await store.claimTransfers(batchSize, clock(), leaseMs)
    const fresh: ClaimedTransfer[] = []
    let sentToday = claimed.length > 0 ? await store.sentSince(utcDayStart(clock())) : 0
    let held = 0
    for (const c of claimed) {
      const decision = checkTransferLimits(limits, c.plan.amount, sentToday, c.approved)
      if (decision.kind === 'hold') {
        await store.transferHeld(c.transferId, decision.reason, clock())
        held++
        log.warn('transfer held for approval', {
          transferId: c.transferId,
          amount: c.plan.amount,
          reason: decision.reason,
        })
        continue
      }
      sentToday += c.plan.amount
      if (c.attempt === 1) {
        fresh.push(c)
        continue
      }
      // An earlier attempt may have reached Stark Bank before it failed or the process died.
      try {
        const existing = await lookup(c)
        if (existing) await created(c, existing, 'found already created', report)
        else fresh.push(c)
      } catch (err) {
        await retryOrDie(c, err as Error, report)
      }
    }
    if (fresh.length > 0) await send(fresh, report)
    return { ...report, claimed: claimed.length, held }
  }

  return { relayOnce }
}

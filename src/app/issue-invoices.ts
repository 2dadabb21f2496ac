import {
  missingInvoices,
  type PlannedInvoice,
  planBatch,
  runIdForSlot,
  runTag,
} from '../domain/invoice-batch.ts'
import {
  type CreateOutcome,
  createDecision,
  DEFAULT_RESUME_AFTER_UNKNOWN_MS,
  type LastCreateAttempt,
} from '../domain/invoice-resume.ts'
import { shownTime } from '../domain/ledger-time.ts'
import type { Random } from '../domain/random.ts'
import { type Bank, BankError } from '../ports/bank.ts'
import type { Clock } from '../ports/clock.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { RunClaim, Store } from '../ports/store.ts'

/**
 * How long a scheduler's claim on a run outlives a holder that stopped answering without dying; far
 * longer than issuing takes (two Stark Bank calls for a batch, each with its timeout).
 */
const RUN_CLAIM_MS = 10 * 60_000

/** This attempt's create calls at Stark Bank: how many were made, and how many answered with invoices. */
interface Attempt {
  createCalls: number
  answered: number
}

/**
 * How a failed attempt's creates ended; `undefined` when it made none (the last one's stands). Only a
 * definitive refusal (a 4xx with Stark Bank's errors) of an attempt none of whose creates succeeded
 * leaves nothing at the bank; anything else after a create call (a timeout, a 5xx, the ledger failing
 * to record what was created) may have invoices the lists do not show yet.
 */
function outcomeOf(err: unknown, attempt: Attempt): CreateOutcome | undefined {
  if (attempt.createCalls === 0) return undefined
  const refused = err instanceof BankError && err.kind === 'rejected' && attempt.answered === 0
  return refused ? 'refused' : 'unknown'
}

/**
 * Issuing a batch of invoices in two steps: the run is planned and written to the ledger (one slot,
 * one run), then issued. Issuing first asks Stark Bank what it already holds for the run's tag, so a
 * retry after a crash or a failed call creates only what is missing.
 */
export function invoiceIssuer(deps: {
  store: Store
  bank: Bank
  clock: Clock
  random: Random
  log: Log
  metrics?: Pick<Metrics, 'schedulerRun' | 'invoicesIssued'> | undefined
  /** After a create whose outcome is unknown, how long a resume only looks up (Stark's lists lag). */
  resumeAfterUnknownMs?: number | undefined
}) {
  const { store, bank, clock, log } = deps
  const resumeAfterUnknownMs = deps.resumeAfterUnknownMs ?? DEFAULT_RESUME_AFTER_UNKNOWN_MS

  /** The claim was taken over (its lease ran out): another scheduler issues the run; stop here. */
  function lost(runId: string, step: string): undefined {
    log.warn('invoice run claim lost to another scheduler; issuing nothing more', { runId, step })
    return undefined
  }

  /**
   * Issues what Stark Bank does not hold yet for the run. Invoices have no idempotency key, so the
   * claim is checked (and renewed) right before each create call and when the run is marked issued:
   * `undefined` when it was lost, and nothing more is created.
   */
  async function issue(
    run: { id: string; invoices: PlannedInvoice[]; lastCreate: LastCreateAttempt | null },
    claim: RunClaim,
    attempt: Attempt,
  ): Promise<number | undefined> {
    const existing = await bank.findInvoices([runTag(run.id)])
    const { missing, found } = missingInvoices(run.invoices, existing)
    if (found.length > 0)
      log.info('invoices already at Stark Bank from an earlier attempt', {
        runId: run.id,
        found: found.length,
      })
    const decision = missing.length > 0 ? createDecision(run.lastCreate, clock(), resumeAfterUnknownMs) : null
    if (decision?.kind === 'lookOnly') {
      log.info('invoice run resume waits for Stark Bank lists to catch up before creating', {
        runId: run.id,
        missing: missing.length,
        until: shownTime(decision.until),
      })
      return undefined
    }
    const created: { invoiceId: string; bankId: string }[] = []
    for (let i = 0; i < missing.length; i += 100) {
      const chunk = missing.slice(i, i + 100)
      if (!(await claim.beforeCreate(clock()))) return lost(run.id, 'create invoices')
      attempt.createCalls++
      const result = await bank.createInvoices(
        chunk.map(({ amount, name, taxId, tags }) => ({ amount, name, taxId, tags })),
      )
      attempt.answered++
      created.push(...missingInvoices(chunk, result).found)
    }
    const marked = await store.markRunIssued(run.id, [...found, ...created], clock(), claim)
    if (marked.kind === 'stale') return lost(run.id, 'mark the run issued')
    deps.metrics?.invoicesIssued(created.length)
    for (const c of created)
      log.info('invoice issued', { runId: run.id, invoiceId: c.invoiceId, bankInvoiceId: c.bankId })
    log.info('invoice run issued', { runId: run.id, created: created.length, alreadyThere: found.length })
    return created.length
  }

  // One resume at a time in this process; across processes each run is claimed before it is issued.
  let resuming: Promise<void> = Promise.resolve()

  /**
   * Finishes every run that was planned but not issued. Failures stay planned for the next try.
   * `justPlanned` is the run this process planned a moment ago: issuing it is no resume.
   */
  function resume(justPlanned?: string): Promise<void> {
    const now = () => resumeNow(justPlanned)
    resuming = resuming.then(now, now)
    return resuming
  }

  async function resumeNow(justPlanned: string | undefined): Promise<void> {
    for (const run of await store.unfinishedRuns()) {
      const claim = await store.claimRun(run.id, clock(), RUN_CLAIM_MS)
      if (!claim) {
        log.info('unfinished invoice run is being issued elsewhere; leaving it', { runId: run.id })
        continue
      }
      if (run.id === justPlanned) log.info('issuing invoice run', { runId: run.id })
      else log.info('resuming unfinished invoice run', { runId: run.id, attempts: run.attempts })
      const attempt: Attempt = { createCalls: 0, answered: 0 }
      try {
        await issue(run, claim, attempt)
      } catch (err) {
        await store.markRunFailed(run.id, String(err), clock(), outcomeOf(err, attempt))
        log.error('invoice run failed; will retry', {
          runId: run.id,
          error: err instanceof Error ? err.message : String(err),
        })
      } finally {
        await claim.release()
      }
    }
  }

  /**
   * Plans and issues the run of one schedule slot. A slot that already has a run (an overlapping tick,
   * another process) is left to it.
   */
  async function runSlot(
    slot: Date,
    kind: 'sched' | 'manual' = 'sched',
  ): Promise<{ runId: string; planned: boolean; issued: boolean }> {
    const runId = runIdForSlot(slot, kind)
    const invoices = planBatch(runId, deps.random)
    const plan = await store.planRun({ id: runId, slot: `${kind}:${slot.toISOString()}`, invoices }, clock())
    if (plan.kind === 'taken') {
      log.info('slot already has a run; not planning another', {
        slot: slot.toISOString(),
        runId: plan.runId,
      })
      deps.metrics?.schedulerRun('taken')
      return { runId: plan.runId, planned: false, issued: await isIssued(plan.runId) }
    }
    log.info('invoice run planned', {
      runId,
      invoices: invoices.length,
      totalCents: invoices.reduce((s, i) => s + i.amount, 0),
    })
    await resume(runId)
    const issued = await isIssued(runId)
    deps.metrics?.schedulerRun(issued ? 'issued' : 'failed')
    return { runId, planned: true, issued }
  }

  const isIssued = async (runId: string) => !(await store.unfinishedRuns()).some((r) => r.id === runId)

  return { runSlot, resume }
}

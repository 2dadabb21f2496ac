import { and, type Column, eq, sql } from 'drizzle-orm'
import { adoptionFor } from '../../domain/credit.ts'
import { invoiceTag, type PlannedInvoice, runTag } from '../../domain/invoice-batch.ts'
import type { CreateOutcome } from '../../domain/invoice-resume.ts'
import type { RunClaim, Store } from '../../ports/store.ts'
import { columnsOf } from './columns.ts'
import { clipped, pendingOutboxRow } from './outbox-claims.ts'
import { createStartColumns, failedCreateColumns, lastCreateOf } from './run-claims.ts'
import { transferOutboxId } from './transfer-claims.ts'

// What both ledgers write for the invoice scheduler, once: a planned run and its invoices, the
// columns of an issued or failed run, and what a resume's adoption moves. The engines run the
// statements in their own transactions (and take their own locks).

type PlannedRun = Parameters<Store['planRun']>[0]
type UnfinishedRun = Awaited<ReturnType<Store['unfinishedRuns']>>[number]

/** The `scheduler_runs` columns both engines' tables have. */
export interface RunColumns {
  id: Column
  status: Column
  attempts: Column
  claimToken: Column
}

/** A new run's row. */
export const plannedRunRow = (run: PlannedRun, now: number) => ({
  id: run.id,
  slot: run.slot,
  status: 'planned' as const,
  invoiceCount: run.invoices.length,
  plannedAt: now,
})

/** A new run's invoice rows. */
export const plannedInvoiceRows = (run: PlannedRun, now: number) =>
  run.invoices.map((i) => ({
    id: i.id,
    runId: run.id,
    amount: i.amount,
    name: i.name,
    taxId: i.taxId,
    status: 'planned' as const,
    createdAt: now,
    updatedAt: now,
  }))

/** A planned run as the resume reads it, with its invoices (in id order) and their tags. */
export function unfinishedRunOf(
  run: { id: string; slot: string; attempts: number } & Parameters<typeof lastCreateOf>[0],
  invoiceRows: { id: string; name: string; taxId: string; amount: number }[],
): UnfinishedRun {
  const invoices: PlannedInvoice[] = invoiceRows.map((i) => ({
    id: i.id,
    runId: run.id,
    name: i.name,
    taxId: i.taxId,
    amount: i.amount,
    tags: [runTag(run.id), invoiceTag(i.id)],
  }))
  return { id: run.id, slot: run.slot, attempts: run.attempts, invoices, lastCreate: lastCreateOf(run) }
}

/** The run while `token`'s claim holds it and it is still planned. */
export const claimedRun = (runs: RunColumns, runId: string, token: string) =>
  and(eq(runs.id, runId), eq(runs.claimToken, token), eq(runs.status, 'planned'))

/** The columns of a run whose invoices are all at Stark Bank. */
export const issuedRun = (runs: RunColumns, now: number) => ({
  status: 'issued' as const,
  issuedAt: now,
  attempts: sql<number>`${runs.attempts} + 1`,
  lastError: null,
})

/** The columns of a failed attempt (see failedCreateColumns). */
export const failedRun = (
  runs: RunColumns,
  error: string,
  now: number,
  outcome: CreateOutcome | undefined,
) => ({
  attempts: sql<number>`${runs.attempts} + 1`,
  lastError: clipped(error),
  ...failedCreateColumns(now, outcome),
})

/** The columns of a planned invoice found at Stark Bank (written only while it is still planned). */
export const issuedInvoice = (bankId: string, now: number) => ({
  starkId: bankId,
  status: 'issued' as const,
  updatedAt: now,
})

/** The invoice row holding a Stark Bank id, and the transfer held for it, as adoption reads them. */
export interface AdoptionFacts {
  holder:
    | {
        id: string
        runId: string | null
        status: 'planned' | 'issued' | 'credited'
        fee: number | null
        creditedAmount: number | null
        creditedAt: number | null
      }
    | undefined
  held: { id: string; status: string; reason: string | null; request: string } | undefined
}

/**
 * What a resume writes when another row already holds the Stark Bank id of planned invoice
 * `invoiceId` (adoptionFor decides): the holder's row goes, its credit moves onto the planned row and,
 * when the adoption pays it, the skipped transfer is released with its outbox row. Undefined: nothing.
 */
export function adoptionWrites(
  invoiceId: string,
  bankId: string,
  { holder, held }: AdoptionFacts,
  now: number,
) {
  const adoption = adoptionFor(invoiceId, bankId, holder, held)
  if (!holder || adoption.kind !== 'adopt') return undefined
  return {
    removed: holder.id,
    adopted: {
      starkId: bankId,
      status: holder.status,
      fee: holder.fee,
      creditedAmount: holder.creditedAmount,
      creditedAt: holder.creditedAt,
      updatedAt: now,
    },
    released:
      adoption.payout === 'pay' && held
        ? {
            transferId: held.id,
            outbox: pendingOutboxRow(transferOutboxId(held.id), 'transfer', held.id, now),
          }
        : undefined,
  }
}

/** What a claim reads of its run to decide whether it may take it. */
export const runClaimRow = <R extends RunColumns & { claimedBy: Column; claimedUntil: Column }>(runs: R) =>
  columnsOf(runs, 'status', 'claimedBy', 'claimedUntil')

/** The run whose claim `token` may release: a later claim's token on the row stays. */
export const releasableRun = (runs: RunColumns, runId: string, token: string) =>
  and(eq(runs.id, runId), eq(runs.claimToken, token))

/** What `lastRun` reads. */
export const lastRunColumns = <R extends RunColumns & { slot: Column; plannedAt: Column }>(runs: R) =>
  columnsOf(runs, 'id', 'slot', 'status', 'plannedAt')

/** The invoice `id` while still planned (an issued or credited one keeps what it has). */
export const plannedInvoice = (invoices: { id: Column; status: Column }, id: string) =>
  and(eq(invoices.id, id), eq(invoices.status, 'planned'))

/** The transfer `id` while still skipped (adoption releases it once). */
export const skippedTransfer = (transfers: { id: Column; status: Column }, id: string) =>
  and(eq(transfers.id, id), eq(transfers.status, 'skipped'))

/**
 * A held run claim over the engine's two statements: `renew` writes the columns on the run while the
 * claim holds it (and answers whether it did), `release` clears the claim.
 */
export function runClaim(
  token: string,
  io: {
    renew: (
      columns: { claimedUntil: number } & Partial<ReturnType<typeof createStartColumns>>,
    ) => boolean | Promise<boolean>
    release: () => unknown
    leaseMs: number
  },
): RunClaim {
  const held = async (at: number, also: Partial<ReturnType<typeof createStartColumns>>) =>
    io.renew({ claimedUntil: at + io.leaseMs, ...also })
  return {
    token,
    stillHeld: (at) => held(at, {}),
    beforeCreate: (at) => held(at, createStartColumns(at)),
    async release() {
      await io.release()
    },
  }
}

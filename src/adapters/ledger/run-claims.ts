import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { CreateOutcome, LastCreateAttempt } from '../../domain/invoice-resume.ts'

// A run's claim, the same on both ledgers: columns on the run row (`claimed_by`, `claimed_until`,
// `claim_token`), taken in a transaction when the run is free. Invoices have no idempotency key at
// Stark Bank, so issuing is fenced by the token: checked in a transaction right before each create
// call and when the run is marked issued. A claim on a dropped connection or a paused process is not
// silently given away: only its lease running out (or its process gone, on this host) frees it, and
// then its next check fails.

/**
 * Who holds a run claim: `host:pid:token`, one per process. A claim whose process is gone from this
 * host is free at once (a restart after a crash takes its run over without waiting for the lease).
 */
export const processClaimant = `${hostname()}:${process.pid}:${randomUUID()}`

/** A fresh token for one claim: a later claim of the same run, even by this process, replaces it. */
export const newClaimToken = (): string => randomUUID()

/** Whether the claim `holder` may still be issuing: its process is this one or alive on this host. */
export function claimantAlive(holder: string, self = processClaimant): boolean {
  if (holder === self) return true
  const [host, pidText] = holder.split(':')
  const [selfHost, selfPid] = self.split(':')
  // Another host: only the lease can tell.
  if (host !== selfHost) return true
  // Our own pid with another token: an earlier process that had this pid (pid 1 in a container).
  if (pidText === selfPid) return false
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface RunClaimRow {
  status: string
  claimedBy: string | null
  claimedUntil: number | null
}

/** Whether a run may be claimed now: still planned, and no live claim on it. */
export function runClaimable(run: RunClaimRow | undefined, now: number): boolean {
  if (run?.status !== 'planned') return false
  const held = run.claimedBy !== null && (run.claimedUntil ?? 0) > now && claimantAlive(run.claimedBy)
  return !held
}

/** The columns a new claim writes. */
export const claimColumns = (token: string, now: number, leaseMs: number) => ({
  claimedBy: processClaimant,
  claimedUntil: now + leaseMs,
  claimToken: token,
})

/** The columns written right before a create call: its outcome is unknown until it answers. */
export const createStartColumns = (now: number) => ({
  lastCreateAt: now,
  lastCreateOutcome: 'unknown' as const,
})

/** The columns a failed attempt writes: its create outcome when it called create, else nothing. */
export const failedCreateColumns = (now: number, outcome: CreateOutcome | undefined) =>
  outcome ? { lastCreateAt: now, lastCreateOutcome: outcome } : {}

/** The run row's last create attempt, as the resume decision reads it. */
export function lastCreateOf(row: {
  lastCreateAt: number | null
  lastCreateOutcome: CreateOutcome | null
}): LastCreateAttempt | null {
  if (row.lastCreateOutcome === null || row.lastCreateAt === null) return null
  return { outcome: row.lastCreateOutcome, at: Number(row.lastCreateAt) }
}

/** The columns a released claim clears. */
export const releasedColumns = { claimedBy: null, claimedUntil: null, claimToken: null }

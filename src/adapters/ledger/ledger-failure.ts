import { setTimeout as sleep } from 'node:timers/promises'
import { QueueUnavailable } from '../../ports/queue.ts'
import { LedgerUnavailable } from '../../ports/store.ts'

// The one place that decides which ledger errors are infrastructure failures (the ledger cannot
// take the step now; the input is not at fault) — one small mapper per engine — and turns them into
// `LedgerUnavailable`. Everything else (constraint violations, bugs, bad input) passes through as is.

interface ErrorShape {
  name?: string
  code?: unknown
  errno?: unknown
  message?: string
  cause?: unknown
}

const shape = (error: unknown): ErrorShape =>
  typeof error === 'object' && error !== null ? (error as ErrorShape) : {}

/** The error and its causes (drizzle wraps driver errors in `DrizzleQueryError`). */
function* chain(error: unknown): Generator<ErrorShape> {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    yield shape(e)
    e = shape(e).cause
  }
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * bun:sqlite: busy, locked, I/O error, cannot open, disk full, read-only (a file or mount that turned
 * read-only), locking protocol error, out of memory (extended codes included).
 */
export function sqliteFailure(error: unknown): string | undefined {
  for (const e of chain(error)) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (/^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PROTOCOL|NOMEM)/.test(code))
      return `SQLite ${code}`
  }
  return undefined
}

/** The SQLite errors that a short wait usually clears (another connection holds the write lock). */
export function isSqliteBusy(error: unknown): boolean {
  return [...chain(error)].some((e) => typeof e.code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(e.code))
}

/**
 * PostgreSQL (Bun's SQL client): connection refused, closed or timed out; SQLSTATE class 08
 * (connection), 53 (insufficient resources), 57P01–57P05 (shutdown, crash, cannot connect now, idle
 * session timeout), 57014 (statement timeout), 40001 and 40P01 (serialization failure, deadlock: the
 * transaction rolled back), 25006 (read-only transaction: the usual error during a failover, the old
 * primary or a standby answering), 55P03 (lock not available), 28P01 and 28000 (authentication
 * refused, as during a credential rotation), 3D000 (database missing).
 */
export function postgresFailure(error: unknown): string | undefined {
  for (const e of chain(error)) {
    const code = typeof e.code === 'string' ? e.code : ''
    const sqlstate = typeof e.errno === 'string' ? e.errno : code
    if (/^ERR_POSTGRES_(CONNECTION_\w+|\w*TIMEOUT|TLS\w*)$/.test(code)) return `PostgreSQL ${code}`
    if (NETWORK.has(code)) return `PostgreSQL ${code}`
    if (/^(08...|53...|57P0[1-5]|57014|40001|40P01|25006|55P03|28P01|28000|3D000)$/.test(sqlstate))
      return `PostgreSQL SQLSTATE ${sqlstate}`
  }
  return undefined
}

/** Any failure a pause and a retry can cure: the ledger's or the queue's. */
export function isInfrastructureFailure(error: unknown): boolean {
  return (
    error instanceof LedgerUnavailable ||
    error instanceof QueueUnavailable ||
    sqliteFailure(error) !== undefined ||
    postgresFailure(error) !== undefined
  )
}

export interface BusyRetry {
  /** Total time to keep retrying a busy step before it fails as `LedgerUnavailable`. */
  budgetMs: number
  /** First wait; doubles up to `capMs`. */
  baseMs: number
  capMs: number
}

/** A lock held elsewhere for longer than this is an outage, not contention. */
export const BUSY_RETRY: BusyRetry = { budgetMs: 2_000, baseMs: 10, capMs: 250 }

/**
 * Runs a synchronous SQLite step; while it fails busy/locked, waits (asynchronously: the event loop
 * keeps serving webhooks) and runs it again, up to the budget. Safe because a step is one
 * transaction that rolled back when it threw. Ledger failures leave as `LedgerUnavailable`.
 */
export async function sqliteStep<T>(step: () => T | Promise<T>, retry: BusyRetry = BUSY_RETRY): Promise<T> {
  const deadline = Date.now() + retry.budgetMs
  for (let wait = retry.baseMs; ; wait = Math.min(retry.capMs, wait * 2)) {
    try {
      return await step()
    } catch (error) {
      const reason = sqliteFailure(error)
      if (reason === undefined) throw error
      if (!isSqliteBusy(error) || Date.now() + wait > deadline) {
        throw new LedgerUnavailable(`ledger unavailable: ${reason}: ${shape(error).message ?? ''}`, {
          cause: error,
        })
      }
      await sleep(wait)
    }
  }
}

/** Maps PostgreSQL's infrastructure failures to `LedgerUnavailable`; others pass through. */
export async function postgresStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    const reason = postgresFailure(error)
    if (reason === undefined) throw error
    throw new LedgerUnavailable(`ledger unavailable: ${reason}: ${shape(error).message ?? ''}`, {
      cause: error,
    })
  }
}

/**
 * Every method of a store, each run through `step`: how an adapter makes all its steps answer
 * ledger outages the same way without touching each one.
 */
export function guardSteps<T extends object>(target: T, step: <R>(run: () => Promise<R>) => Promise<R>): T {
  const guarded = {} as Record<string, unknown>
  for (const [key, value] of Object.entries(target)) {
    guarded[key] =
      typeof value === 'function'
        ? (...args: unknown[]) => step(() => Promise.resolve().then(() => value(...args)))
        : value
  }
  return guarded as T
}

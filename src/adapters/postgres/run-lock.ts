import type { RunClaim } from '../../ports/store.ts'
import type { PgLedger } from './database.ts'

/** The first key of paybridge's run locks (the second is the run id's hash). */
const RUN_LOCK_SPACE = 72_639_011

/**
 * Claims a planned run with a session advisory lock held on a connection reserved from the pool
 * while the run is issued. Another scheduler's `pg_try_advisory_lock` fails at once instead of
 * waiting; a holder that dies loses the lock with its session, so a restart takes the run over at
 * once. The status is read after the lock, so a run finished meanwhile is not issued again.
 */
export async function claimRunLock(ledger: PgLedger, runId: string): Promise<RunClaim | undefined> {
  const conn = await ledger.client.reserve()
  let locked = false
  try {
    const [got] =
      await conn`select pg_try_advisory_lock(${RUN_LOCK_SPACE}::int, hashtext(${runId}::text)) as ok`
    locked = got?.ok === true
    if (!locked) return release()
    const [run] = await conn`select status from scheduler_runs where id = ${runId}`
    if (run?.status !== 'planned') return release()
  } catch (err) {
    await release()
    throw err
  }
  let released: Promise<undefined> | undefined
  return {
    async release() {
      released ??= release()
      await released
    },
  }

  async function release(): Promise<undefined> {
    try {
      if (locked) await conn`select pg_advisory_unlock(${RUN_LOCK_SPACE}::int, hashtext(${runId}::text))`
    } finally {
      conn.release()
    }
    return undefined
  }
}

import type { SQL } from 'bun'

/** A probe that gets no answer in this long says so instead of hanging (a half-open connection). */
const PROBE_TIMEOUT_MS = 5_000

/**
 * Whether the PostgreSQL ledger takes writes, for `/readyz` and the paused consumer's probe. `select 1`
 * is not enough: a standby after a failover, or a database set `default_transaction_read_only`,
 * answers it and refuses every write (25006). One round trip: the server is not in recovery and this
 * session's transactions are not read-only. Answers within `timeoutMs`, with the reason when not.
 */
export function pgWritable(client: SQL, timeoutMs = PROBE_TIMEOUT_MS): () => Promise<true | string> {
  return async () => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`ledger not writable: PostgreSQL did not answer within ${timeoutMs} ms`),
        timeoutMs,
      )
    })
    const probe = async (): Promise<true | string> => {
      const [row] = (await client`
        select pg_is_in_recovery() as recovery, current_setting('transaction_read_only') as read_only`) as {
        recovery: boolean
        read_only: string
      }[]
      if (row?.recovery) return 'ledger not writable: PostgreSQL is a standby in recovery (read-only)'
      if (row?.read_only !== 'off') return 'ledger not writable: PostgreSQL transactions are read-only'
      return true
    }
    try {
      return await Promise.race([
        probe().catch((err: unknown) => `ledger not writable: ${(err as Error).message}`),
        late,
      ])
    } finally {
      clearTimeout(timer)
    }
  }
}

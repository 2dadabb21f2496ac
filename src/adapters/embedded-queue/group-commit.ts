/**
 * Batches the items of concurrent callers into one synchronous commit. Items added during one turn
 * of the event loop are committed together at the next `setImmediate`; every caller's promise
 * settles after that commit: resolved once `commit` returned, rejected with its error if it threw.
 * A caller that awaits `add` therefore never learns of success before its items are durable.
 *
 * The commit must be synchronous (bun:sqlite): nothing is added while it runs, and a batch is
 * bounded by what one event-loop turn delivers (and by `maxItems`, beyond which a new batch starts).
 */
export function groupCommit<T>(
  commit: (items: T[]) => void,
  options: {
    maxItems?: number
    /** Runs the commit; may run it again after a wait (a busy ledger). Items added meanwhile start a new batch. */
    attempt?: (commit: () => void) => Promise<void>
  } = {},
) {
  const maxItems = options.maxItems ?? 1000
  const attempt = options.attempt ?? (async (run: () => void) => run())
  let batch: { items: T[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | undefined

  async function flush(current: NonNullable<typeof batch>): Promise<void> {
    if (batch === current) batch = undefined
    try {
      await attempt(() => commit(current.items))
    } catch (err) {
      for (const w of current.waiters) w.reject(err)
      return
    }
    for (const w of current.waiters) w.resolve()
  }

  return {
    add(items: T[]): Promise<void> {
      if (!batch || batch.items.length + items.length > maxItems) {
        const fresh: NonNullable<typeof batch> = { items: [], waiters: [] }
        batch = fresh
        setImmediate(() => void flush(fresh))
      }
      const target = batch
      target.items.push(...items)
      return new Promise<void>((resolve, reject) => target.waiters.push({ resolve, reject }))
    },
  }
}

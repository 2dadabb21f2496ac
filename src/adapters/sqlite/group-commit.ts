/**
 * Batches the items of concurrent callers into one synchronous commit. Items added during one turn
 * of the event loop are committed together at the next `setImmediate`; every caller's promise
 * settles after that commit: resolved once `commit` returned, rejected with its error if it threw.
 * A caller that awaits `add` therefore never learns of success before its items are durable.
 *
 * The commit must be synchronous (bun:sqlite): nothing is added while it runs, and a batch is
 * bounded by what one event-loop turn delivers (and by `maxItems`, beyond which a new batch starts).
 */
export function groupCommit<T>(commit: (items: T[]) => void, options: { maxItems?: number } = {}) {
  const maxItems = options.maxItems ?? 1000
  let batch: { items: T[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | undefined

  function flush(current: NonNullable<typeof batch>): void {
    if (batch === current) batch = undefined
    try {
      commit(current.items)
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
        setImmediate(() => flush(fresh))
      }
      const target = batch
      target.items.push(...items)
      return new Promise<void>((resolve, reject) => target.waiters.push({ resolve, reject }))
    },
  }
}

/**
 * Batches the items of concurrent callers into one synchronous commit followed by one `sync` (the
 * fsync that makes it durable, off the event loop). One batch is in flight at a time: items added
 * while a batch commits and syncs form the next batch, committed as soon as that sync is done (or at
 * the next `setImmediate` when nothing is in flight). So the group grows with the fsync's length,
 * and every caller's promise settles after its batch's commit and sync: resolved when both
 * succeeded, rejected with the error otherwise. A caller that awaits `add` therefore never learns of
 * success before its items are durable.
 *
 * The commit must be synchronous (bun:sqlite): nothing is added while it runs. A batch holds at most
 * `maxItems`; beyond that a further batch waits its turn.
 */
export function groupCommit<T>(
  commit: (items: T[]) => void,
  options: {
    maxItems?: number
    /** Runs the commit; may run it again after a wait (a busy ledger). */
    attempt?: (commit: () => void) => Promise<void>
    /** Makes what `commit` wrote durable; awaited before the batch's callers are answered. */
    sync?: () => Promise<void>
  } = {},
) {
  const maxItems = options.maxItems ?? 1000
  const attempt = options.attempt ?? (async (run: () => void) => run())
  const sync = options.sync ?? (async () => {})
  type Batch = { items: T[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[] }
  const waiting: Batch[] = []
  let flushing = false

  async function flushAll(): Promise<void> {
    for (let current = waiting.shift(); current; current = waiting.shift()) {
      const batch = current
      try {
        await attempt(() => commit(batch.items))
        await sync()
      } catch (err) {
        for (const w of batch.waiters) w.reject(err)
        continue
      }
      for (const w of batch.waiters) w.resolve()
    }
    flushing = false
  }

  return {
    add(items: T[]): Promise<void> {
      let target = waiting.at(-1)
      if (!target || target.items.length + items.length > maxItems) {
        target = { items: [], waiters: [] }
        waiting.push(target)
      }
      const batch = target
      batch.items.push(...items)
      if (!flushing) {
        flushing = true
        setImmediate(() => void flushAll())
      }
      return new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }))
    },
  }
}

import type { Database } from 'bun:sqlite'
import type { Ledger } from '../ledger/sqlite/database.ts'

// Senders wake the long polls of the same queue: on this thread directly, and through one
// BroadcastChannel per file and queue those on the process's other threads (the worker thread's own
// connection to the file); other processes are seen by polling. A file's waiters are keyed by its path
// and queue, an in-memory ledger's by its connection, so tests with separate ledgers never wake each
// other. The channel's handler holds only its key: a closed ledger's connection is never kept.
const fileWaiters = new Map<string, Set<() => void>>()
const memoryWaiters = new WeakMap<Database, Map<string, Set<() => void>>>()
const channels = new Map<string, BroadcastChannel>()

const fileKey = (ledger: Ledger, name: string) =>
  ledger.path === ':memory:' ? undefined : `${ledger.path} ${name}`

function waitersOf(ledger: Ledger, name: string): Set<() => void> {
  const key = fileKey(ledger, name)
  if (key === undefined) {
    let byName = memoryWaiters.get(ledger.sqlite)
    if (!byName) {
      byName = new Map()
      memoryWaiters.set(ledger.sqlite, byName)
    }
    return setIn(byName, name)
  }
  return setIn(fileWaiters, key)
}

function setIn(map: Map<string, Set<() => void>>, key: string): Set<() => void> {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  return set
}

/** The process-wide channel of one file's queue, made once per thread. */
function channelOf(key: string): BroadcastChannel {
  let channel = channels.get(key)
  if (!channel) {
    channel = new BroadcastChannel(`paybridge-queue ${key}`)
    channel.onmessage = () => {
      for (const waiter of fileWaiters.get(key) ?? []) waiter()
    }
    // Never what keeps a finished process or thread alive.
    ;(channel as BroadcastChannel & { unref(): void }).unref()
    channels.set(key, channel)
  }
  return channel
}

/**
 * How an embedded queue's long polls wait: `nap` resolves after `ms`, on abort, or when `wake` runs for
 * the same queue on any thread of the process (a send, a release, a hand-back).
 */
export function queueWakeUps(ledger: Ledger, name: string) {
  const key = fileKey(ledger, name)
  const threads = key === undefined ? undefined : channelOf(key)
  return {
    wake() {
      for (const waiter of waitersOf(ledger, name)) waiter()
      threads?.postMessage(0)
    },
    nap: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve) => {
        const set = waitersOf(ledger, name)
        const done = () => {
          clearTimeout(timer)
          set.delete(done)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, ms)
        set.add(done)
        signal?.addEventListener('abort', done, { once: true })
      }),
  }
}

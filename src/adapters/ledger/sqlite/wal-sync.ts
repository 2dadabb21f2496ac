import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs'
import { dirname } from 'node:path'

/** Flushes to disk every commit made on the ledger file before the call; see `walSync`. */
export interface WalSync {
  /** Resolves once every commit that returned before this call is on disk; rejects if the sync failed. */
  sync(): Promise<void>
  /** How many fdatasync calls were made (one may cover the commits of many callers). */
  syncs(): number
  /** Why the WAL can no longer be trusted to reach the disk (a sync failed), if it cannot. */
  failure(): string | undefined
  close(): void
}

/**
 * The fsync of SQLite's `synchronous = FULL`, off the event loop. bun:sqlite runs on the JS thread,
 * so a FULL commit blocks every request for the length of an fsync (2–3 ms here under load). The
 * ledger commits with NORMAL instead (the WAL is written at commit, synced only at checkpoints) and
 * a caller that must survive a power loss awaits `sync()`: an fdatasync of the `-wal` file on the
 * runtime's I/O threads.
 *
 * Why that is as durable as FULL: fdatasync flushes the file (the inode), whichever descriptor or
 * connection wrote it, so one started after a commit returned covers that commit's frames (and
 * every earlier commit's). A frame is only overwritten after a checkpoint copied it into the database
 * file, and NORMAL syncs the WAL before each checkpoint and the database after it (and the WAL
 * header when the log restarts), so a commit that left the WAL is already on disk in the database.
 * The `-wal` file is removed only when the last connection closes, and this process holds one.
 *
 * `path` must be the file SQLite opened (symlinks resolved): the `-wal` file is beside it.
 *
 * The folder is synced once when the WAL file is first opened, so a `-wal` created since the last
 * checkpoint is found after a power loss (FULL does the same; not every filesystem orders it).
 * A failed sync is final: Linux may drop the pages it could not write and report the error once, so
 * a later sync that succeeds proves nothing about earlier commits. Every later sync is refused and
 * `failure()` says why, until paybridge restarts (the readiness probe reports it).
 *
 * One fdatasync is in flight at a time; callers that arrive meanwhile share the next one.
 */
export function walSync(
  path: string,
  io: {
    fdatasync: (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void
    syncFolder: (folder: string) => void
  } = { fdatasync, syncFolder },
): WalSync {
  if (path === ':memory:' || path === '')
    return { sync: async () => {}, syncs: () => 0, failure: () => undefined, close: () => {} }
  const walPath = `${path}-wal`
  let fd: number | undefined
  let running: Promise<void> | undefined
  let next: Promise<void> | undefined
  let count = 0
  let failed: string | undefined

  function once(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (failed) {
        reject(new Error(`${failed}; no send is durable until paybridge restarts: restart paybridge`))
        return
      }
      try {
        // Opened on first use: SQLite creates the -wal file with the first write in WAL mode.
        if (fd === undefined) {
          fd = openSync(walPath, 'r')
          io.syncFolder(dirname(walPath))
        }
      } catch (err) {
        reject(new Error(`cannot open the ledger's WAL file ${walPath} to sync it: ${String(err)}`))
        return
      }
      count += 1
      io.fdatasync(fd, (err) => {
        if (!err) return resolve()
        failed = `fdatasync of the ledger's WAL file ${walPath} failed: ${err.message}`
        reject(new Error(failed))
      })
    })
  }

  function sync(): Promise<void> {
    if (!running) {
      running = once().finally(() => {
        running = undefined
      })
      return running
    }
    // The sync in flight may have started before the caller's commit: wait for it, then start one.
    next ??= running
      .catch(() => {})
      .then(() => {
        next = undefined
        return sync()
      })
    return next
  }

  return {
    sync,
    syncs: () => count,
    failure: () => failed,
    close() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    },
  }
}

function syncFolder(folder: string): void {
  const fd = openSync(folder, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

import { closeSync, fdatasync, openSync } from 'node:fs'

/** Flushes to disk every commit made on the ledger file before the call; see `walSync`. */
export interface WalSync {
  /** Resolves once every commit that returned before this call is on disk; rejects if the sync failed. */
  sync(): Promise<void>
  /** How many fdatasync calls were made (one may cover the commits of many callers). */
  syncs(): number
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
 * One fdatasync is in flight at a time; callers that arrive meanwhile share the next one.
 */
export function walSync(path: string): WalSync {
  if (path === ':memory:') return { sync: async () => {}, syncs: () => 0, close: () => {} }
  const walPath = `${path}-wal`
  let fd: number | undefined
  let running: Promise<void> | undefined
  let next: Promise<void> | undefined
  let count = 0

  function once(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        // Opened on first use: SQLite creates the -wal file with the first write in WAL mode.
        fd ??= openSync(walPath, 'r')
      } catch (err) {
        reject(new Error(`cannot open the ledger's WAL file ${walPath} to sync it: ${String(err)}`))
        return
      }
      count += 1
      fdatasync(fd, (err) =>
        err
          ? reject(new Error(`fdatasync of the ledger's WAL file ${walPath} failed: ${err.message}`))
          : resolve(),
      )
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
    close() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    },
  }
}

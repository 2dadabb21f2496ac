import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'

/**
 * Who holds a run claim on a SQLite ledger: `host:pid:token`, one token per process. A SQLite file is
 * shared only by processes on one host, so a claim whose process is gone is free at once (a restart
 * after a crash takes its run over without waiting for the lease).
 */
export const processClaimant = `${hostname()}:${process.pid}:${randomUUID()}`

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

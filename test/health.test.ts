import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { sqliteQueue } from '../src/adapters/embedded-queue/queue.ts'
import {
  healthRoutes,
  queueCheck,
  starkKeyCheck,
  unresolvedTransfersAlert,
} from '../src/adapters/http/health.ts'
import { type Ledger, openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { ledgerWritable } from '../src/adapters/ledger/sqlite/ledger-health.ts'
import { walSync } from '../src/adapters/ledger/sqlite/wal-sync.ts'
import { tempDir } from './support/paybridge.ts'

interface Readiness {
  ok: boolean
  reason?: string
  checks: Record<string, { ok: boolean; reason?: string; ms: number }>
}

const dirs: { cleanup(): void }[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup()
})

function ledgerFile(): string {
  const dir = tempDir('paybridge-health-')
  dirs.push(dir)
  const path = join(dir.path, 'ledger.sqlite')
  openLedger(path).close()
  return path
}

/** A fake verifier whose key loads on the first verification, or never. */
function verifier(loads: boolean) {
  let loaded = false
  return {
    loaded: () => loaded,
    async verify() {
      if (!loads) throw new Error('Stark Bank answered 503')
      loaded = true
      return false
    },
  }
}

describe('health endpoints', () => {
  it('shows unresolved transfers under alerts on /readyz without making the process unready', async () => {
    let unresolved = 0
    const app = healthRoutes({
      checks: { ledger: () => true },
      alerts: { transfers: unresolvedTransfersAlert({ unresolvedTransfers: async () => unresolved }) },
    })
    const quiet = await app.request('/readyz')
    expect(quiet.status).toBe(200)
    expect(await quiet.json()).not.toHaveProperty('alerts')
    unresolved = 2
    const res = await app.request('/readyz')
    expect(res.status).toBe(200)
    const body = (await res.json()) as Readiness & { alerts: Record<string, string> }
    expect(body.ok).toBe(true)
    expect(body.alerts.transfers).toContain('2 transfer(s) unresolved')
  })

  it('answers /healthz while the process runs, whatever the checks say', async () => {
    const app = healthRoutes({ checks: { never: () => 'broken' } })
    const res = await app.request('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true })
  })

  it('is ready when the ledger is writable, the queue answers, the key is loaded and the scheduler runs', async () => {
    const ledger = openLedger(ledgerFile())
    const app = healthRoutes({
      checks: {
        ledger: ledgerWritable(ledger),
        queue: queueCheck(sqliteQueue({ ledger, name: 'stark-events' })),
        starkKey: starkKeyCheck(verifier(true)),
        scheduler: () => true,
      },
    })
    const res = await app.request('/readyz')
    const body = (await res.json()) as Readiness
    expect(res.status).toBe(200)
    expect(body.ok).toBe(true)
    expect(Object.keys(body.checks).sort()).toEqual(['ledger', 'queue', 'scheduler', 'starkKey'])
    // The probe wrote nothing.
    expect(ledger.sqlite.query('SELECT count(*) AS n FROM queue_dedup').get()).toEqual({ n: 0 })
    ledger.close()
  })

  it('is not ready, with each reason, when the key cannot be loaded, the queue is down and the scheduler stopped', async () => {
    const ledger = openLedger(ledgerFile())
    const app = healthRoutes({
      checks: {
        ledger: ledgerWritable(ledger),
        queue: queueCheck({ ping: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:4566')) }),
        starkKey: starkKeyCheck(verifier(false)),
        scheduler: () => 'invoice scheduler not running',
      },
    })
    const res = await app.request('/readyz')
    const body = (await res.json()) as Readiness
    expect(res.status).toBe(503)
    expect(body.ok).toBe(false)
    expect(body.checks.ledger?.ok).toBe(true)
    expect(body.checks.queue).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED 127.0.0.1:4566' })
    expect(body.checks.starkKey).toMatchObject({ ok: false, reason: 'Stark Bank answered 503' })
    expect(body.checks.scheduler).toMatchObject({ ok: false, reason: 'invoice scheduler not running' })
    expect(body.reason).toContain('scheduler: invoice scheduler not running')
    ledger.close()
  })

  it('is not ready when the ledger is read-only or held by another writer', async () => {
    const path = ledgerFile()
    const sqlite = new Database(path, { readonly: true })
    const readOnly = { sqlite, wal: walSync(path) } as unknown as Ledger
    const locked = openLedger(path, { busyTimeoutMs: 20 })
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE')
    const app = healthRoutes({
      checks: { readOnly: ledgerWritable(readOnly), locked: ledgerWritable(locked) },
    })
    const res = await app.request('/readyz')
    const body = (await res.json()) as Readiness
    expect(res.status).toBe(503)
    expect(body.checks.readOnly?.reason).toMatch(/^ledger not writable: .*readonly/i)
    expect(body.checks.locked?.reason).toMatch(/^ledger not writable: .*locked/i)
    other.exec('ROLLBACK')
    // Once the other writer is done, the same ledger is ready again.
    const again = await healthRoutes({ checks: { locked: ledgerWritable(locked) } }).request('/readyz')
    expect(again.status).toBe(200)
    other.close()
    sqlite.close()
    locked.close()
  })

  it('gives up on a check that does not answer in time', async () => {
    const app = healthRoutes({ checks: { queue: () => new Promise(() => {}) }, timeoutMs: 30 })
    const res = await app.request('/readyz')
    expect(res.status).toBe(503)
    expect(((await res.json()) as Readiness).checks.queue?.reason).toBe('no answer within 30 ms')
  })
})

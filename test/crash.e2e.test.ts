import { afterEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { openLedger } from '../src/adapters/ledger/sqlite/database.ts'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { type StarkBankEmulator, startStarkBankEmulator } from '../src/emulator/emulator.ts'
import { envFor, PROJECT_ID, tempDir } from './support/paybridge.ts'
import { freePort } from './support/process.ts'
import { waitFor } from './support/wait.ts'

// paybridge runs as a real process (`bun run src/main.ts`) and is killed with SIGKILL while Stark Bank
// (the emulator) is handling its request, then started again on the same ledger file.

const ROOT = join(import.meta.dir, '..')

interface Harness {
  emulator: StarkBankEmulator
  start(): void
  kill(): Promise<void>
  logs(): Promise<string>
  ledgerCounts(): { runs: number; pendingOutbox: number; invoices: number }
  stop(): Promise<void>
}

const harnesses: Harness[] = []
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

async function harness(): Promise<Harness> {
  const dir = tempDir('paybridge-crash-')
  const project = generateKeyPair()
  const port = freePort()
  const emulator = await startStarkBankEmulator({
    port: 0,
    projects: { [PROJECT_ID]: project.publicPem },
    payShare: 1,
    payDelayMs: 50,
    webhookUrl: `http://127.0.0.1:${port}/webhook/starkbank`,
    webhookRetryDelaysMs: [500, 1_000, 2_000],
  })
  const dbPath = join(dir.path, 'ledger.sqlite')
  const env = {
    ...process.env,
    ...envFor(emulator, project.privatePem, {
      PORT: String(port),
      DATABASE_PATH: dbPath,
      // A short lease, so a killed relay's rows are due again soon: the least configuration accepts,
      // 3 Stark Bank calls of STARK_TIMEOUT_MS (1000 here) + 1 s.
      RELAY_LEASE_MS: '4000',
      // A kill mid-create leaves the run's outcome unknown; the emulator's lists do not lag, so the
      // restart need not wait them out (resumes after a wait come only every 60 s, past these timeouts).
      INVOICE_RESUME_AFTER_UNKNOWN_MS: '0',
      LOG_LEVEL: 'info',
    }),
  }
  let child: ReturnType<typeof Bun.spawn> | undefined
  let starts = 0
  const logFiles: string[] = []
  const h: Harness = {
    emulator,
    start() {
      const logFile = join(dir.path, `paybridge-${++starts}.log`)
      logFiles.push(logFile)
      child = Bun.spawn([process.execPath, 'run', 'src/main.ts'], {
        cwd: ROOT,
        env,
        stdout: 'ignore',
        stderr: Bun.file(logFile),
      })
    },
    async logs() {
      return (await Promise.all(logFiles.map((f) => Bun.file(f).text()))).join('')
    },
    async kill() {
      child?.kill('SIGKILL')
      await child?.exited
    },
    ledgerCounts() {
      const ledger = openLedger(dbPath)
      const q = (sql: string) => (ledger.sqlite.query(sql).get() as { n: number }).n
      const counts = {
        runs: q('select count(*) as n from scheduler_runs'),
        pendingOutbox: q("select count(*) as n from outbox where status != 'done'"),
        invoices: q('select count(*) as n from invoices where stark_id is not null'),
      }
      ledger.close()
      return counts
    },
    async stop() {
      child?.kill('SIGTERM')
      await child?.exited
      await emulator.stop()
      dir.cleanup()
    },
  }
  harnesses.push(h)
  return h
}

function oneTransferPerPaidInvoice(emulator: StarkBankEmulator) {
  const paid = emulator.invoices().filter((i) => i.status === 'paid')
  const transfers = emulator.transfers()
  const perInvoice = paid.map(
    (i) => transfers.filter((t) => t.externalId === `paybridge-invoice-${i.id}`).length,
  )
  return { paid: paid.length, transfers: transfers.length, perInvoice }
}

function invoicesPerTag(emulator: StarkBankEmulator): number[] {
  const byTag = new Map<string, number>()
  for (const invoice of emulator.invoices()) {
    for (const tag of invoice.tags.filter((t) => t.startsWith('paybridge-invoice-'))) {
      byTag.set(tag, (byTag.get(tag) ?? 0) + 1)
    }
  }
  return [...byTag.values()]
}

describe('crash and restart', () => {
  it('loses and doubles nothing when killed after Stark Bank received the invoices, then after it received the transfers', async () => {
    const h = await harness()
    let killedAtInvoices = false
    let killedAtTransfers = false
    h.emulator.onRequest = async (route) => {
      if (route === 'POST /v2/invoice' && !killedAtInvoices) {
        killedAtInvoices = true
        await h.kill() // the request goes on: Stark Bank creates the invoices, the answer is lost
      }
      if (route === 'POST /v2/transfer' && !killedAtTransfers) {
        killedAtTransfers = true
        await h.kill() // the transfers are created; the ledger never hears of it
      }
    }
    h.start()
    await waitFor('the kill at invoice creation', () => killedAtInvoices)
    await waitFor(
      'Stark Bank to create the invoices of the lost request',
      () => h.emulator.invoices().length > 0,
    )
    const planned = h.emulator.invoices().length
    expect(planned).toBeGreaterThanOrEqual(8)
    h.start()
    await waitFor('the kill at transfer creation', () => killedAtTransfers, 20_000)
    h.start()
    await waitFor(
      'one transfer per paid invoice, outbox drained',
      () => {
        const t = oneTransferPerPaidInvoice(h.emulator)
        return t.paid === planned && t.transfers === planned && h.ledgerCounts().pendingOutbox === 0
      },
      20_000,
    )
    await Bun.sleep(500)
    expect(h.emulator.invoices().length).toBe(planned)
    expect(invoicesPerTag(h.emulator).every((n) => n === 1)).toBe(true)
    const result = oneTransferPerPaidInvoice(h.emulator)
    expect(result.transfers).toBe(planned)
    expect(result.perInvoice.every((n) => n === 1)).toBe(true)
    const counts = h.ledgerCounts()
    expect(counts.runs).toBe(1)
    expect(counts.invoices).toBe(planned)
    // The restarts found the bank's side by tag instead of creating anything again.
    const logs = await h.logs()
    expect(logs).toContain('invoices already at Stark Bank from an earlier attempt')
    expect(logs).toContain('transfer found already created')
  })

  it('issues the planned run once when killed before Stark Bank created the invoices', async () => {
    const h = await harness()
    let killed = false
    h.emulator.onRequest = async (route) => {
      if (route === 'POST /v2/invoice' && !killed) {
        killed = true
        h.emulator.fail('POST /v2/invoice', { status: 500, times: 1 }) // nothing is created this time
        await h.kill()
      }
    }
    h.start()
    await waitFor('the kill at invoice creation', () => killed)
    expect(h.emulator.invoices().length).toBe(0)
    h.start()
    await waitFor('the run issued after restart', () => h.emulator.invoices().length > 0, 15_000)
    await waitFor(
      'every invoice paid out',
      () => {
        const t = oneTransferPerPaidInvoice(h.emulator)
        return t.paid > 0 && t.transfers === t.paid && h.ledgerCounts().pendingOutbox === 0
      },
      20_000,
    )
    await Bun.sleep(500)
    expect(h.emulator.invoices().length).toBeGreaterThanOrEqual(8)
    expect(invoicesPerTag(h.emulator).every((n) => n === 1)).toBe(true)
    expect(h.ledgerCounts().runs).toBe(1)
    expect(oneTransferPerPaidInvoice(h.emulator).perInvoice.every((n) => n === 1)).toBe(true)
  })
})

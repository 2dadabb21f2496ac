import { afterEach, describe, expect, it } from 'bun:test'
import { sqliteStore } from '../src/adapters/ledger/sqlite/store.ts'
import { type BankEvent, decideBankEvent } from '../src/domain/bank-event.ts'
import { planTransfer } from '../src/domain/transfer.ts'
import { type Rig, startRig } from './support/paybridge.ts'
import { waitFor } from './support/wait.ts'

// Stark Bank refusing paybridge's access (here the request clock) is a relay-wide fault: the relay
// stops, says so on /readyz and /metrics, kills nothing, and resumes on its own.

const rigs: Rig[] = []
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.stop()
})

describe('transfer relay circuit, end to end', () => {
  it('pauses transfers during a 401 invalidAccessTime outage, reports it on /readyz, and sends them after', async () => {
    const rig = await startRig({ payShare: 1 })
    rigs.push(rig)
    const base = `http://127.0.0.1:${rig.paybridge.port}`
    const ready = async () => {
      const res = await fetch(`${base}/readyz`)
      return { status: res.status, body: (await res.json()) as { reason?: string } }
    }
    await waitFor('ready', async () => (await ready()).status === 200, 20_000)

    rig.emulator.authOutage(4_000, 'invalidAccessTime')
    const invoiceId = '9100000000000001'
    const event: BankEvent = {
      id: '9200000000000001',
      subscription: 'invoice',
      created: new Date().toISOString(),
      log: {
        id: '9300000000000001',
        type: 'credited',
        invoice: { id: invoiceId, amount: 10_000, fee: 50, status: 'paid', tags: [] },
      },
    }
    const transfer = planTransfer(invoiceId, 9_950, rig.config.destination)
    await sqliteStore(rig.ledgerFile).recordBankEvent(
      { event, payload: JSON.stringify({ event }), decision: decideBankEvent(event, 'all'), transfer },
      Date.now(),
    )
    const row = () =>
      rig.ledgerFile.sqlite.query('select status from transfers where id = ?').get(transfer.externalId) as {
        status: string
      }

    await waitFor('the circuit open on /readyz', async () => {
      const r = await ready()
      return r.status === 503 && (r.body.reason ?? '').includes('transferRelay: transfer relay circuit open')
    })
    expect((await ready()).body.reason).toContain('invalidAccessTime')
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toMatch(/paybridge_relay_circuit_open\{reason="[^"]*invalidAccessTime[^"]*"\} 1/)
    expect(row().status).toBe('pending')

    await waitFor('the transfer sent after the outage', () => row().status === 'created', 30_000)
    await waitFor('ready again', async () => (await ready()).status === 200, 10_000)
    const dead = rig.ledgerFile.sqlite
      .query("select count(*) as n from transfers where status = 'dead'")
      .get() as {
      n: number
    }
    expect(dead.n).toBe(0)
    expect(rig.emulator.transfers().filter((t) => t.externalId === transfer.externalId).length).toBe(1)
  }, 60_000)
})

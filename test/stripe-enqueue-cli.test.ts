import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Fauxqs, startFauxqs } from './support/fauxqs.ts'
import { tempDir } from './support/paybridge.ts'
import { runCli } from './support/process.ts'

// `stripe enqueue` with the ledger on PostgreSQL and the Stripe queue on SQS: no SQLite file is opened.

const dir = tempDir('paybridge-stripe-enqueue-')
let fauxqs: Fauxqs | undefined
beforeAll(async () => {
  fauxqs = await startFauxqs()
}, 60_000)
afterAll(async () => {
  await fauxqs?.stop()
  dir.cleanup()
})

describe('stripe enqueue with DATABASE_URL', () => {
  it('puts the events on the SQS Stripe queue and creates no SQLite ledger file', async () => {
    const file = join(dir.path, 'events.json')
    writeFileSync(
      file,
      JSON.stringify({
        id: 'evt_enqueue0001',
        object: 'event',
        type: 'invoice.paid',
        created: 1_764_000_000,
      }),
    )
    const sqlitePath = join(dir.path, 'data', 'paybridge.sqlite')
    const result = await runCli(['stripe', 'enqueue', file], {
      // The command never reaches the ledger; the configuration only needs its URL.
      DATABASE_URL: 'postgres://paybridge@127.0.0.1:1/unused',
      DATABASE_PATH: sqlitePath,
      SQS_QUEUE_NAME: 'stark-events-enqueue',
      STRIPE_QUEUE_NAME: 'stripe-events-enqueue',
      SQS_ENDPOINT: fauxqs!.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      LOG_LEVEL: 'error',
    })
    expect([result.code, result.stderr]).toEqual([0, ''])
    expect(result.stdout).toBe('queued 1 event(s) on stripe-events-enqueue (sqs)\n')
    expect(existsSync(sqlitePath)).toBe(false)
  }, 60_000)
})

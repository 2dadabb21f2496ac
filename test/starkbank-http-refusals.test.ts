import { afterAll, describe, expect, it } from 'bun:test'
import { starkBank } from '../src/adapters/starkbank/bank.ts'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { bankFault } from '../src/app/bank-faults.ts'
import { BankError } from '../src/ports/bank.ts'

// Only a 4xx carrying Stark Bank's {"errors":[…]} is the bank's refusal of a request. A 4xx without
// it comes from something in between (a proxy, a WAF) or is a status Stark Bank uses for
// "try again": the real SDK over HTTP to a server that answers what such a hop would.

let answer: { status: number; body: string; type: string } = { status: 200, body: '{}', type: 'json' }
const hop = Bun.serve({
  port: 0,
  fetch: () =>
    new Response(answer.body, {
      status: answer.status,
      headers: { 'content-type': answer.type === 'json' ? 'application/json' : 'text/html' },
    }),
})
afterAll(() => hop.stop(true))

const keys = generateKeyPair()
const bank = () =>
  starkBank({
    projectId: '5656565656565656',
    privateKeyPem: keys.privatePem,
    environment: 'sandbox',
    apiUrl: `http://127.0.0.1:${hop.port}`,
    timeoutMs: 2_000,
  })

const plan = {
  amount: 1000,
  name: 'Stark Bank S.A.',
  taxId: '20.018.183/0001-80',
  bankCode: '20018183',
  branchCode: '0001',
  accountNumber: '6341320293482496',
  accountType: 'payment',
  externalId: 'paybridge-invoice-1',
  tags: ['paybridge-transfer'],
}

async function failure(status: number, body: string, type = 'html'): Promise<BankError> {
  answer = { status, body, type }
  const error = await bank()
    .createTransfers([plan])
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  if (!(error instanceof BankError)) throw new Error(`expected a BankError, got ${String(error)}`)
  return error
}

describe('Stark Bank HTTP refusals', () => {
  it('a 4xx without Stark Bank error list is relay-wide, naming its status, never a refusal of the transfer', async () => {
    // (A 400 without the list makes starkcore itself throw a TypeError: not a BankError, so the relay
    // retries it as an unknown outcome; never a refusal either.)
    for (const status of [401, 404, 407, 409, 413]) {
      const error = await failure(status, '<html><body>Access denied by proxy</body></html>')
      expect([status, error.kind, bankFault(error)]).toEqual([status, 'blocked', 'relay-wide'])
      expect(error.message).toContain(`HTTP ${status}`)
    }
    const json = await failure(404, '{"message":"not found"}', 'json')
    expect([json.kind, bankFault(json)]).toEqual(['blocked', 'relay-wide'])
  })

  it('408, 425 and 429 are transient: the call may be tried again', async () => {
    for (const status of [408, 425, 429]) {
      const error = await failure(status, '<html>slow down</html>')
      expect([status, error.kind, bankFault(error)]).toEqual([status, 'transient', 'unknown'])
    }
  })

  it("a 4xx with Stark Bank's error list is the bank's refusal, with its reasons", async () => {
    const body = JSON.stringify({ errors: [{ code: 'invalidTaxId', message: 'the tax id is invalid' }] })
    const error = await failure(400, body, 'json')
    expect([error.kind, bankFault(error), error.details[0]?.code]).toEqual([
      'rejected',
      'rejected',
      'invalidTaxId',
    ])
  })
})

import { readFileSync } from 'node:fs'
import * as v from 'valibot'
import { KeyFormatError, starkPrivateKeyPem } from '../adapters/starkbank/ecdsa.ts'
import {
  LEDGER_STEPS_MS,
  minForwardLeaseMs,
  minTransferLeaseMs,
  STARK_CALLS_PER_TRANSFER,
} from '../domain/lease.ts'
import { DESTINATION_VARS, EnvSchema } from './env-schema.ts'

// Rules between variables, checked on the raw values so one run lists every problem at once.

/**
 * A relay lease must outlast every call made under it (see domain/lease.ts). The transfer relay starts
 * a Stark Bank call only while the rest of its lease covers the call's timeout, so a rejected batch
 * split into single sends stops there and the rest wait for the next claim; what must fit is the
 * calls of one transfer. The Stripe forwarder makes one POST per claimed forward.
 */
function leaseProblems(defined: Record<string, string | undefined>): string[] {
  // Each value on its own, so these rules are checked even when other variables are wrong.
  const value = (name: 'RELAY_LEASE_MS' | 'STARK_TIMEOUT_MS' | 'STRIPE_TIMEOUT_MS') => {
    const parsed = v.safeParse(EnvSchema.entries[name], defined[name])
    return parsed.success ? parsed.output : undefined
  }
  const [lease, starkTimeout, stripeTimeout] = [
    value('RELAY_LEASE_MS'),
    value('STARK_TIMEOUT_MS'),
    value('STRIPE_TIMEOUT_MS'),
  ]
  if (lease === undefined) return []
  const problems: string[] = []
  const stark = starkTimeout === undefined ? 0 : minTransferLeaseMs(starkTimeout)
  if (lease < stark) {
    problems.push(
      `RELAY_LEASE_MS, STARK_TIMEOUT_MS: the lease (${lease} ms) must be at least ${stark} ms, ` +
        `${STARK_CALLS_PER_TRANSFER} × STARK_TIMEOUT_MS + ${LEDGER_STEPS_MS} ms: one transfer may need ` +
        `${STARK_CALLS_PER_TRANSFER} Stark Bank calls in a row (the lookup of an earlier attempt, the send, ` +
        'the lookup after a duplicate refusal) after the claim and before its writes; the relay starts no ' +
        'call its lease cannot cover, because a lease that ends while a call is in flight lets another ' +
        'relay send the same transfers again, so a shorter lease could never send such a transfer',
    )
  }
  const stripe = stripeTimeout === undefined ? 0 : minForwardLeaseMs(stripeTimeout)
  if (defined.STRIPE_SERVICE_URL && lease < stripe) {
    problems.push(
      `RELAY_LEASE_MS, STRIPE_TIMEOUT_MS: the lease (${lease} ms) must be at least ${stripe} ms, ` +
        'STRIPE_TIMEOUT_MS + 1000 ms for writing the outcome: a lease that ends while a POST is in flight ' +
        'lets another forwarder POST the same event again',
    )
  }
  return problems
}

/**
 * Every cross-field problem of the (non-empty) variables, and the Stark Bank private key as given
 * (STARK_PRIVATE_KEY with its `\n` escapes undone, or read from STARK_PRIVATE_KEY_FILE).
 */
export function crossFieldRules(defined: Record<string, string>): {
  problems: string[]
  privateKeyPem: string | undefined
} {
  const problems: string[] = []
  const projectId = defined.STARK_PROJECT_ID
  const keyFile = defined.STARK_PRIVATE_KEY_FILE
  // A PEM in one env line usually carries literal "\n" escapes.
  let privateKeyPem = defined.STARK_PRIVATE_KEY?.replace(/\\n/g, '\n')
  if (privateKeyPem && keyFile) {
    problems.push('STARK_PRIVATE_KEY, STARK_PRIVATE_KEY_FILE: set one, not both')
  } else if (keyFile) {
    try {
      privateKeyPem = readFileSync(keyFile, 'utf8')
      if (!privateKeyPem.includes('PRIVATE KEY'))
        problems.push('STARK_PRIVATE_KEY_FILE: file holds no PEM private key')
    } catch (err) {
      problems.push(`STARK_PRIVATE_KEY_FILE: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  if (privateKeyPem?.includes('PRIVATE KEY')) {
    try {
      privateKeyPem = starkPrivateKeyPem(privateKeyPem)
    } catch (err) {
      if (!(err instanceof KeyFormatError)) throw err
      problems.push(`${keyFile ? 'STARK_PRIVATE_KEY_FILE' : 'STARK_PRIVATE_KEY'}: ${err.message}`)
    }
  }
  if (projectId && !privateKeyPem && !keyFile) {
    problems.push('STARK_PRIVATE_KEY: required when STARK_PROJECT_ID is set (or STARK_PRIVATE_KEY_FILE)')
  }
  if (!projectId && privateKeyPem) {
    problems.push('STARK_PROJECT_ID: required when a Stark Bank private key is given')
  }
  if (defined.STARK_ENVIRONMENT === 'production' && !(projectId || privateKeyPem || keyFile)) {
    problems.push(
      'STARK_PROJECT_ID, STARK_PRIVATE_KEY: required when STARK_ENVIRONMENT=production (without them paybridge would run its local emulator and move no real money)',
    )
  }
  problems.push(...leaseProblems(defined))
  if (defined.STARK_ENVIRONMENT === 'production') {
    const unset = DESTINATION_VARS.filter((name) => !defined[name])
    if (unset.length > 0) {
      problems.push(
        `${unset.join(', ')}: must be set explicitly when STARK_ENVIRONMENT=production (no default destination for real money)`,
      )
    }
  }
  if (defined.SQS_QUEUE_URL && defined.SQS_QUEUE_NAME)
    problems.push('SQS_QUEUE_URL, SQS_QUEUE_NAME: set one, not both')
  if ((defined.SQS_QUEUE_URL || defined.SQS_QUEUE_NAME) && !defined.AWS_REGION) {
    problems.push('AWS_REGION: required when SQS_QUEUE_URL or SQS_QUEUE_NAME is set')
  }
  if (defined.STRIPE_QUEUE_URL && defined.STRIPE_QUEUE_NAME) {
    problems.push('STRIPE_QUEUE_URL, STRIPE_QUEUE_NAME: set one, not both')
  }
  if (defined.STRIPE_SERVICE_URL && !defined.STRIPE_WEBHOOK_SECRET) {
    problems.push('STRIPE_WEBHOOK_SECRET: required when STRIPE_SERVICE_URL is set')
  }
  if ((defined.STRIPE_QUEUE_URL || defined.STRIPE_QUEUE_NAME) && !defined.AWS_REGION) {
    problems.push('AWS_REGION: required when STRIPE_QUEUE_URL or STRIPE_QUEUE_NAME is set')
  }
  if (defined.DATABASE_URL && !defined.SQS_QUEUE_URL && !defined.SQS_QUEUE_NAME) {
    problems.push(
      'SQS_QUEUE_URL or SQS_QUEUE_NAME: required with DATABASE_URL (the embedded queue lives in SQLite)',
    )
  }
  if (
    defined.DATABASE_URL &&
    defined.STRIPE_SERVICE_URL &&
    !defined.STRIPE_QUEUE_URL &&
    !defined.STRIPE_QUEUE_NAME
  ) {
    problems.push('STRIPE_QUEUE_URL or STRIPE_QUEUE_NAME: required with DATABASE_URL and STRIPE_SERVICE_URL')
  }
  return { problems, privateKeyPem }
}

import { brl } from '../domain/money.ts'
import { subscriptionState, webhookUrlFor } from '../domain/webhook-subscription.ts'
import { type Bank, BankError } from '../ports/bank.ts'
import type { DownstreamProbe, LedgerProbe, QueueProbe } from '../ports/doctor-probes.ts'

// `doctor`: one check per external part, each ok or a failure with the fix. Checks never change
// anything (opening the ledger applies pending migrations, as every paybridge process does).

export type CheckResult = { ok: true; detail: string } | { ok: false; detail: string; fix: string }

export interface DoctorCheck {
  name: string
  run(): Promise<CheckResult>
}

export interface CheckOutcome {
  name: string
  result: CheckResult
}

/** Beyond this, Stark Bank may refuse signed requests (Access-Time) and events look out of order. */
export const MAX_CLOCK_SKEW_MS = 30_000

const ok = (detail: string): CheckResult => ({ ok: true, detail })
const fail = (detail: string, fix: string): CheckResult => ({ ok: false, detail, fix })
const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** What a failed Stark Bank call says about the set-up. */
function bankFailure(error: unknown, environment: string): CheckResult {
  const codes = error instanceof BankError ? error.details.map((d) => d.code) : []
  if (codes.includes('invalidAccessTime'))
    return fail(message(error), "set this host's clock (NTP): Stark Bank refused the request's Access-Time")
  if (codes.some((c) => c === 'invalidCredentials' || c === 'invalidAccessId'))
    return fail(
      message(error),
      `check STARK_PROJECT_ID and STARK_PRIVATE_KEY: the key must be the one registered for that project in Stark Bank's ${environment} environment (STARK_ENVIRONMENT)`,
    )
  if (error instanceof BankError && error.kind === 'rejected')
    return fail(message(error), 'see the reasons above')
  return fail(
    message(error),
    'check that this host reaches Stark Bank (DNS, firewall, proxy; STARK_API_URL when set)',
  )
}

/** Runs every check, at once; a check that throws counts as failed with what it threw. */
export async function runDoctor(checks: DoctorCheck[]): Promise<CheckOutcome[]> {
  return Promise.all(
    checks.map(async (check) => ({
      name: check.name,
      result: await check
        .run()
        .catch((error: unknown) =>
          fail(message(error), 'see the error above; run doctor again once it is fixed'),
        ),
    })),
  )
}

export interface DoctorDeps {
  bank: Bank
  stark: { projectId: string; environment: 'sandbox' | 'production' }
  /** PUBLIC_URL: where Stark Bank reaches paybridge; undefined when not configured. */
  publicUrl: string | undefined
  ledger: LedgerProbe
  /** Only the queues on SQS: the embedded ones live in the ledger. */
  queues: QueueProbe[]
  /** The Stripe downstream, when the forwarder is on. */
  stripe: DownstreamProbe | undefined
  /** How long paybridge takes a received message for (QUEUE_VISIBILITY_MS). */
  handlingMs: number
}

/** The checklist, in the order it is printed. */
export function doctorChecks(deps: DoctorDeps): DoctorCheck[] {
  const { bank, stark } = deps
  const checks: DoctorCheck[] = [
    {
      name: 'Stark Bank credentials',
      run: () =>
        bank.balance().then(
          () => ok(`project ${stark.projectId} signs requests Stark Bank accepts (${stark.environment})`),
          (error) => bankFailure(error, stark.environment),
        ),
    },
    {
      name: 'clock',
      async run() {
        const time = await bank.serverTime()
        // Date has whole seconds, cut down: the middle of its second is the best guess of Stark's clock.
        const skew = time.at + 500 - time.localAt
        const detail =
          Math.abs(skew) <= 1000 + time.roundTripMs / 2
            ? 'in step with Stark Bank (to the second)'
            : `${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'behind' : 'ahead of'} Stark Bank`
        return Math.abs(skew) <= MAX_CLOCK_SKEW_MS
          ? ok(detail)
          : fail(`${detail} (more than ${MAX_CLOCK_SKEW_MS / 1000} s)`, "set this host's clock (NTP)")
      },
    },
    {
      name: 'webhook public key',
      run: () =>
        bank.publicKey().then(
          (pem) =>
            pem.includes('BEGIN PUBLIC KEY')
              ? ok('fetched: webhook signatures can be verified')
              : fail(
                  'Stark Bank answered with no PEM public key',
                  'check STARK_API_URL points at Stark Bank',
                ),
          (error) => bankFailure(error, stark.environment),
        ),
    },
    { name: 'webhook subscription', run: () => webhookCheck(bank, deps.publicUrl, stark.environment) },
    { name: 'balance', run: () => balanceCheck(bank, deps.ledger, stark.environment) },
    ...deps.queues.map((queue) => ({
      name: `queue ${queue.label}`,
      run: () => queueCheck(queue, deps.handlingMs),
    })),
  ]
  const { stripe } = deps
  if (stripe) checks.push({ name: 'Stripe downstream', run: () => downstreamCheck(stripe) })
  checks.push(
    {
      name: 'ledger writable',
      async run() {
        const writable = await deps.ledger.writable()
        return writable === true
          ? ok(`${deps.ledger.engine} ledger takes writes`)
          : fail(writable, ledgerFix(deps.ledger))
      },
    },
    { name: 'ledger migrations', run: () => migrationsCheck(deps.ledger) },
  )
  return checks
}

async function webhookCheck(bank: Bank, publicUrl: string | undefined, environment: string) {
  if (!publicUrl)
    return fail(
      'PUBLIC_URL is not set: nothing to compare the subscription with',
      'set PUBLIC_URL to the https:// address Stark Bank reaches paybridge at',
    )
  const url = webhookUrlFor(publicUrl)
  const webhooks = await bank.webhooks().catch((error: unknown) => error)
  if (!Array.isArray(webhooks)) return bankFailure(webhooks, environment)
  const state = subscriptionState(webhooks, url)
  switch (state.kind) {
    case 'complete':
      return ok(`${url} gets invoice and transfer events (webhook ${state.at.map((w) => w.id).join(', ')})`)
    case 'incomplete':
      return fail(
        `the webhook at ${url} lacks ${state.missing.join(' and ')} events`,
        `bun run src/main.ts webhooks register --url ${url} --replace`,
      )
    case 'missing':
      return fail(
        `no webhook at ${url}${state.elsewhere.length > 0 ? ` (they point at ${state.elsewhere.join(', ')})` : ''}`,
        `bun run src/main.ts webhooks register --url ${url}`,
      )
  }
}

const ledgerFix = (ledger: LedgerProbe) =>
  ledger.engine === 'sqlite' ? 'check DATABASE_PATH' : 'check DATABASE_URL'

async function balanceCheck(bank: Bank, ledger: LedgerProbe, environment: string) {
  const [balance, toSend] = await Promise.all([
    bank.balance().catch((error: unknown) => bankFailure(error, environment)),
    ledger.transfersToSend().catch((error: unknown) => fail(message(error), ledgerFix(ledger))),
  ])
  if ('ok' in balance) return balance
  if ('ok' in toSend) return toSend
  const owed = toSend.pending.cents + toSend.held.cents
  const detail =
    `${brl(balance.amount)} against ${toSend.pending.count} pending (${brl(toSend.pending.cents)}) ` +
    `and ${toSend.held.count} held (${brl(toSend.held.cents)}) transfers`
  return balance.amount >= owed
    ? ok(detail)
    : fail(
        detail,
        `add at least ${brl(owed - balance.amount)} to the Stark Bank workspace before they are sent`,
      )
}

async function queueCheck(queue: QueueProbe, handlingMs: number) {
  const settings = await queue.settings()
  if (settings === 'missing')
    return queue.createdAtStart
      ? ok('not created yet: paybridge creates it and its dead-letter queue at start')
      : fail(
          'no such queue',
          'create it with a dead-letter queue, or name it (SQS_QUEUE_NAME) for paybridge to create',
        )
  const handlingS = Math.ceil(handlingMs / 1000)
  if (!settings.redrive)
    return fail(
      'no RedrivePolicy: a message that keeps failing is received for ever',
      `set a RedrivePolicy to a dead-letter queue (aws sqs set-queue-attributes --attributes RedrivePolicy=...); paybridge sets one on queues it is given by name`,
    )
  if (settings.visibilityTimeoutSeconds < handlingS)
    return fail(
      `VisibilityTimeout ${settings.visibilityTimeoutSeconds} s is shorter than handling (QUEUE_VISIBILITY_MS, ${handlingS} s): a message in hand shows again to other consumers`,
      `aws sqs set-queue-attributes --attributes VisibilityTimeout=${handlingS}, or lower QUEUE_VISIBILITY_MS`,
    )
  return ok(
    `dead letters after ${settings.redrive.maxReceiveCount} receives, visibility ${settings.visibilityTimeoutSeconds} s ≥ ${handlingS} s`,
  )
}

async function downstreamCheck(stripe: DownstreamProbe) {
  try {
    const status = await stripe.reach()
    return status >= 500
      ? fail(`${stripe.url} answers HTTP ${status}`, 'check the Stripe service is healthy')
      : ok(`${stripe.url} answers (HTTP ${status})`)
  } catch (error) {
    return fail(
      `${stripe.url} is unreachable: ${message(error)}`,
      'check STRIPE_SERVICE_URL and that the service runs',
    )
  }
}

async function migrationsCheck(ledger: LedgerProbe) {
  const m = await ledger.migrations().catch((error: unknown) => fail(message(error), ledgerFix(ledger)))
  if ('ok' in m) return m
  if (m.latestApplied > m.latestKnown)
    return fail(
      `the ledger has migrations newer than this build (${m.applied} applied, ${m.known} known)`,
      'run the paybridge version that migrated it (or newer)',
    )
  if (m.latestApplied < m.latestKnown)
    return fail(`${m.known - m.applied} migrations not applied`, 'start paybridge once: it migrates at start')
  return ok(`current (${m.applied} applied)`)
}

import { parseArgs } from 'node:util'
import { registerWebhook } from '../../app/register-webhook.ts'
import { PAYBRIDGE_SUBSCRIPTIONS, webhookUrlFor } from '../../domain/webhook-subscription.ts'
import { type Bank, BankError } from '../../ports/bank.ts'
import { renderTable } from './table.ts'

export const WEBHOOKS_USAGE = `usage: bun run src/main.ts webhooks register [--url https://…] [--replace]
       bun run src/main.ts webhooks list [--json]
  register  subscribes the URL (default: PUBLIC_URL + /webhook/starkbank) to Stark Bank's invoice and
            transfer events, once: a second run creates nothing. A subscription at the URL that lacks
            one of them is reported; --replace deletes it and creates a complete one.
  list      prints the workspace's webhook subscriptions.
`

export interface WebhookCommandDeps {
  bank: Pick<Bank, 'webhooks' | 'registerWebhook' | 'removeWebhook'>
  /** PUBLIC_URL, when configured. */
  publicUrl: string | undefined
  out(text: string): void
  err(text: string): void
}

const services = PAYBRIDGE_SUBSCRIPTIONS.join(' and ')

/** `webhooks register|list`. Exit codes: 0 done, 1 an incomplete subscription left as it is, 2 usage. */
export async function webhooksCommand(args: string[], deps: WebhookCommandDeps): Promise<number> {
  const [sub, ...rest] = args
  let values: { url?: string | undefined; replace?: boolean | undefined; json?: boolean | undefined }
  try {
    values = parseArgs({
      args: rest,
      options: { url: { type: 'string' }, replace: { type: 'boolean' }, json: { type: 'boolean' } },
      strict: true,
    }).values
  } catch (error) {
    deps.err(`paybridge: ${(error as Error).message}\n${WEBHOOKS_USAGE}`)
    return 2
  }
  const run =
    sub === 'list' && !values.url && !values.replace
      ? () => list(deps, values.json === true)
      : sub === 'register' && !values.json
        ? () => register(deps, values.url, values.replace === true)
        : undefined
  if (!run) {
    deps.err(WEBHOOKS_USAGE)
    return 2
  }
  try {
    return await run()
  } catch (error) {
    // Stark Bank's refusal or an unreachable host is an answer for the operator, not a stack trace.
    if (!(error instanceof BankError)) throw error
    deps.err(`paybridge: ${error.message}\n`)
    return 1
  }
}

async function list(deps: WebhookCommandDeps, json: boolean): Promise<number> {
  const webhooks = await deps.bank.webhooks()
  if (json) {
    deps.out(`${JSON.stringify({ webhooks }, null, 2)}\n`)
    return 0
  }
  deps.out(
    renderTable(
      webhooks.map((w) => ({ id: w.id, url: w.url, subscriptions: w.subscriptions.join(', ') })),
      120,
    ),
  )
  return 0
}

async function register(deps: WebhookCommandDeps, given: string | undefined, replace: boolean) {
  const url = given ?? (deps.publicUrl ? webhookUrlFor(deps.publicUrl) : undefined)
  if (!url) {
    deps.err('paybridge: webhooks register needs --url https://… (or PUBLIC_URL set)\n')
    return 2
  }
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    deps.err(`paybridge: --url must be an absolute http(s) URL, got ${url}\n`)
    return 2
  }
  const result = await registerWebhook(deps.bank, url, { replace })
  const ids = (at: { id: string }[]) => at.map((w) => w.id).join(', ')
  switch (result.kind) {
    case 'created':
      deps.out(`created webhook ${result.webhook.id}: Stark Bank sends ${services} events to ${url}\n`)
      return 0
    case 'exists':
      deps.out(`nothing to create: webhook ${ids(result.at)} already sends ${services} events to ${url}\n`)
      return 0
    case 'replaced':
      deps.out(
        `deleted webhook ${ids(result.removed)} and created ${result.webhook.id}: Stark Bank sends ${services} events to ${url}\n`,
      )
      return 0
    case 'incomplete':
      deps.err(
        `paybridge: webhook ${ids(result.at)} at ${url} lacks ${result.missing.join(' and ')} events; Stark Bank ` +
          'cannot change a subscription: run `webhooks register --url ' +
          `${url} --replace\` to delete it and create one with ${services}\n`,
      )
      return 1
  }
}

import { reconcileDays } from '../../app/reconcile-ledger.ts'
import { parseSince } from '../../domain/ledger-time.ts'
import { brl } from '../../domain/money.ts'
import type { Reconciliation } from '../../domain/reconcile.ts'
import { describeAnomaly, describeMismatch, reconciliationJson } from '../../domain/reconcile-report.ts'
import type { ReconcileOptions } from '../../domain/reconcile-window.ts'
import type { Clock } from '../../ports/clock.ts'
import { type LedgerViews, QUERY_VIEWS, type QueryView } from '../../ports/ledger-views.ts'
import type { Log } from '../../ports/log.ts'
import type { Store } from '../../ports/store.ts'
import { STATUS_MEANING } from '../ledger/views/rows.ts'
import { type CommandOption, parseOptions } from './command.ts'
import { renderTable, renderTrace } from './table.ts'

export const LEDGER_USAGE = `usage: bun run src/main.ts ledger <command>
  ledger <view> [--status S] [--since T] [--limit N] [--json]
      views: ${QUERY_VIEWS.join(', ')}; newest first
      --status S   ${Object.entries(STATUS_MEANING)
        .map(([v, m]) => `${v}: ${m}`)
        .join('\n                   ')}
      --since T    an ISO time (2026-03-01, 2026-03-01T12:00Z) or an age (45s, 30m, 6h, 2d)
  ledger trace <id> [--json]
      one item's lineage from any of its ids: Stark Bank event, invoice (ours or Stark Bank's),
      transfer (externalId or Stark Bank's), run, Stripe event or queue message
  ledger reconcile [--day YYYY-MM-DD | --from YYYY-MM-DD] [--json]
      per UTC day: Σ(credited amount − fee) against Σ(transfers created) and Σ(transfers confirmed),
      and every mismatch; exits 1 when there is one (for cron); anomalies (later credits,
      invoices not issued by paybridge) are listed apart and do not fail it
  ledger transfers replay --dead [--transfer <id>] [--dry-run]
      dead transfers back to pending with a fresh retry count, on SQLite or PostgreSQL; safe to
      repeat: each keeps its externalId, so Stark Bank refuses a second one and the relay finds the first
  exit codes: 0 fine, 1 mismatch found or id unknown, 2 usage
`

export interface LedgerCommandDeps {
  views: LedgerViews
  /** The engine's reconcile, for `ledger reconcile`. */
  reconcile(options: ReconcileOptions): Promise<Reconciliation>
  out(text: string): void
  err?(text: string): void
  clock?: Clock
}

const jsonOption: CommandOption = { type: 'boolean', description: 'as JSON' }
const day = (description: string): CommandOption => ({ type: 'string', value: 'YYYY-MM-DD', description })

/** `ledger <view>`'s options (the table's entry and direct calls read the same). */
export const VIEW_OPTIONS: Record<string, CommandOption> = {
  status: { type: 'string', value: 'S', description: "only rows in status S (each view's statuses: below)" },
  since: {
    type: 'string',
    value: 'T',
    description: 'an ISO time (2026-03-01, 2026-03-01T12:00Z) or an age (45s, 30m, 6h, 2d)',
  },
  limit: { type: 'string', value: 'N', description: 'at most N rows, newest first (default 50)' },
  json: jsonOption,
}
export const TRACE_OPTIONS: Record<string, CommandOption> = { json: jsonOption }
export const RECONCILE_OPTIONS: Record<string, CommandOption> = {
  day: day('only this UTC day'),
  from: day('every UTC day from this one'),
  json: jsonOption,
}
export const TRANSFERS_REPLAY_OPTIONS: Record<string, CommandOption> = {
  dead: { type: 'boolean', description: 'required: only dead transfers are replayed' },
  transfer: { type: 'string', value: '<id>', description: 'only this transfer' },
  'dry-run': { type: 'boolean', description: 'print what would be done and change nothing' },
}

/** The options given (`--name` → value, '' for a flag) and the other words, or what is wrong. */
function parseArgs(
  args: string[],
  options: Record<string, CommandOption>,
): { flags: Map<string, string>; rest: string[] } | string {
  const parsed = parseOptions(options, args)
  if (typeof parsed === 'string') return parsed
  const flags = new Map<string, string>()
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value !== undefined && value !== false) flags.set(`--${name}`, value === true ? '' : String(value))
  }
  return { flags, rest: parsed.positionals }
}

/**
 * `ledger …` for people and scripts: filtered views, `trace <id>` and `reconcile`. Returns the exit
 * code: 0 fine, 1 a mismatch (reconcile) or an unknown id (trace), 2 usage.
 */
export async function ledgerCommand(args: string[], deps: LedgerCommandDeps): Promise<number> {
  const err = deps.err ?? deps.out
  const clock = deps.clock ?? Date.now
  const [command, ...rest] = args
  const usage = (problem: string) => {
    err(`paybridge: ${problem}\n${LEDGER_USAGE}`)
    return 2
  }
  const json = (value: unknown) => deps.out(`${JSON.stringify(value, null, 2)}\n`)

  if (command === 'trace') {
    const parsed = parseArgs(rest, TRACE_OPTIONS)
    if (typeof parsed === 'string') return usage(parsed)
    const [id, extra] = parsed.rest
    if (!id || extra) return usage('trace takes one id')
    const trace = await deps.views.trace(id)
    if (parsed.flags.has('--json')) json(trace)
    else deps.out(renderTrace(trace))
    return trace.found ? 0 : 1
  }

  if (command === 'reconcile')
    return reconcileCommand(rest, { read: deps.reconcile, out: deps.out, err, clock })

  const view = command as QueryView
  if (!QUERY_VIEWS.includes(view)) return usage(`unknown ledger view "${command ?? ''}"`)
  const parsed = parseArgs(rest, VIEW_OPTIONS)
  if (typeof parsed === 'string') return usage(parsed)
  if (parsed.rest.length > 0) return usage(`unexpected "${parsed.rest[0]}"`)
  const limitText = parsed.flags.get('--limit')
  const limit = limitText === undefined ? 50 : Number(limitText)
  if (!Number.isInteger(limit) || limit <= 0) return usage('--limit takes a positive whole number')
  const sinceText = parsed.flags.get('--since')
  const since = parseSince(sinceText, clock())
  if (sinceText !== undefined && since === undefined) return usage(`--since cannot read "${sinceText}"`)
  const rows = await deps.views.rows(view, { status: parsed.flags.get('--status'), since, limit })
  if (parsed.flags.has('--json')) json(rows)
  else deps.out(renderTable(rows))
  return 0
}

/** `reconcile`'s flags, or what is wrong with them. */
function parseReconcileArgs(args: string[]): { day?: string; from?: string; json: boolean } | string {
  const parsed = parseArgs(args, RECONCILE_OPTIONS)
  if (typeof parsed === 'string') return parsed
  if (parsed.rest.length > 0) return `unexpected "${parsed.rest[0]}"`
  const days = reconcileDays({ day: parsed.flags.get('--day'), from: parsed.flags.get('--from') })
  if ('problem' in days) return days.problem
  return { ...days, json: parsed.flags.has('--json') }
}

/**
 * `ledger reconcile …` over either ledger engine (`read` is the reconcile use case): exit 0 when
 * balanced, 1 with a mismatch, 2 for bad flags.
 */
export async function reconcileCommand(
  args: string[],
  deps: {
    read(options: ReconcileOptions): Promise<Reconciliation>
    out(text: string): void
    err(text: string): void
    clock?: Clock
  },
): Promise<number> {
  const parsed = parseReconcileArgs(args)
  if (typeof parsed === 'string') {
    deps.err(`paybridge: ${parsed}\n${LEDGER_USAGE}`)
    return 2
  }
  const result = await deps.read({ day: parsed.day, from: parsed.from, now: (deps.clock ?? Date.now)() })
  deps.out(
    parsed.json ? `${JSON.stringify(reconciliationJson(result), null, 2)}\n` : renderReconciliation(result),
  )
  return result.ok ? 0 : 1
}

/** Days as a table, then every mismatch, then the verdict. */
export function renderReconciliation(result: Reconciliation): string {
  const table = renderTable(
    result.days.map((d) => ({
      day: d.day,
      invoices: d.invoices,
      credited: brl(d.credited),
      transfers_created: brl(d.transfersCreated),
      confirmed: brl(d.transfersConfirmed),
      pending: brl(d.pending),
      held: brl(d.held),
      mismatches: d.mismatches,
      ok: d.ok ? 'yes' : 'NO',
    })),
  )
  const lines = result.mismatches.map((m) => `  - ${describeMismatch(m)}`)
  const odd = result.anomalies.map((a) => `  - ${describeAnomaly(a)}`)
  const verdict = result.ok
    ? 'reconciled: every credited invoice has its transfer'
    : `NOT reconciled: ${result.mismatches.length} mismatch(es)`
  return `${table}${lines.length ? `\nmismatches:\n${lines.join('\n')}\n` : ''}${odd.length ? `\nanomalies (recorded, changed nothing; not mismatches):\n${odd.join('\n')}\n` : ''}\n${verdict}\n`
}

/**
 * `ledger transfers replay --dead [--transfer <id>] [--dry-run]`: lists the dead transfers and, unless
 * `--dry-run`, puts them back in the outbox through the Store (either engine). Exit 1 when a named
 * transfer is not dead; 2 usage.
 */
export async function transfersReplay(
  args: string[],
  deps: {
    store: Pick<Store, 'replayDeadTransfers'>
    clock: Clock
    log: Log
    out(text: string): void
    err(text: string): void
  },
): Promise<number> {
  const usage = (problem: string) => {
    deps.err(`paybridge: ${problem}\n${LEDGER_USAGE}`)
    return 2
  }
  const parsed = parseArgs(args, TRANSFERS_REPLAY_OPTIONS)
  if (typeof parsed === 'string') return usage(parsed)
  if (parsed.rest.length > 0) return usage(`unexpected "${parsed.rest[0]}"`)
  const dead = parsed.flags.has('--dead')
  const dryRun = parsed.flags.has('--dry-run')
  const transferId = parsed.flags.get('--transfer')
  // Only dead transfers can be replayed; the flag says so out loud, as `forwards replay --dead` does.
  if (!dead) return usage('transfers replay needs --dead')
  const filter = transferId === undefined ? {} : { transferId }
  const entries = await deps.store.replayDeadTransfers(filter, deps.clock(), { dryRun })
  if (entries.length === 0) {
    if (transferId !== undefined) {
      deps.err(`paybridge: no dead transfer ${transferId}\n`)
      return 1
    }
    deps.out('no dead transfers\n')
    return 0
  }
  deps.out(`${dryRun ? 'would put' : 'put'} ${entries.length} dead transfer(s) back in the outbox:\n`)
  deps.out(
    renderTable(
      entries.map((e) => ({
        transfer: e.transferId,
        amount_cents: e.amount,
        reason: e.reason ?? '',
      })),
    ),
  )
  if (dryRun) deps.out('dry run: nothing changed\n')
  else
    deps.log.info('dead transfers replayed; the relay sends them with the same externalIds', {
      count: entries.length,
    })
  return 0
}

import { minTransferLeaseMs } from '../../src/domain/lease.ts'
import { between, pick } from './faults.ts'
import { holdLedgerBusy } from './processes.ts'
import type { Scenario, ScenarioContext, ScenarioOptions } from './scenario.ts'
import { mixedScenario } from './scenario-mixed.ts'
import { sqsDlq } from './scenario-sqs-dlq.ts'
import { STARK_TIMEOUT_MS } from './world.ts'

// The fault classes of issue 11, one scenario each (the mixed kill -9 run is the CI one).

const OUTAGE_MS = 30_000
/** Invoices are 1,000..500,000 cents: the mean the daily limit is sized from. */
const MEAN_INVOICE = 250_500

/** Runs `fault` once, in the first cycle, in the background. */
function once(fault: (ctx: ScenarioContext) => Promise<unknown>): Pick<Scenario, 'cycle'> {
  return {
    cycle(ctx) {
      if (ctx.cycle === 1) ctx.inBackground(fault(ctx))
    },
  }
}

const ledgerOutage: Scenario = {
  name: 'ledger-outage',
  description:
    'SQLite: another process holds the write lock 30 s; PostgreSQL: server stopped 30 s, then started',
  ledgers: ['sqlite', 'postgres'],
  cycleMs: 1_000,
  minFaultMs: OUTAGE_MS + 10_000,
  // The default receive limit: an outage longer than 5 visibility timeouts must not dead-letter.
  env: () => ({ QUEUE_MAX_RECEIVES: '5' }),
  ...once(async (ctx) => {
    await Bun.sleep(2_000)
    const server = ctx.world.postgres
    if (server) {
      await server.halt()
      await Bun.sleep(OUTAGE_MS)
      await server.restart()
      ctx.count('PostgreSQL stopped 30 s')
      return
    }
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (await holdLedgerBusy(ctx.world.ledgerPath, OUTAGE_MS))
        return ctx.count('ledger write lock held 30 s')
    }
    ctx.count('ledger write lock not had')
  }),
}

const ledgerFreeze: Scenario = {
  name: 'ledger-freeze',
  description: 'PostgreSQL frozen 30 s (SIGSTOP to the server and its backends, then SIGCONT)',
  ledgers: ['postgres'],
  cycleMs: 1_000,
  minFaultMs: OUTAGE_MS + 10_000,
  env: () => ({ QUEUE_MAX_RECEIVES: '5' }),
  ...once(async (ctx) => {
    await Bun.sleep(2_000)
    await ctx.world.postgres?.freeze(OUTAGE_MS)
    ctx.count('PostgreSQL frozen 30 s')
  }),
}

const lostAnswer: Scenario = {
  name: 'lost-answer',
  description: 'transfer created, answer lost (500 or hang), new transfers hidden from lists 3–12 s',
  ledgers: ['sqlite', 'postgres'],
  cycleMs: 1_000,
  cycle(ctx) {
    if (ctx.random() > 0.6) return
    const hang = ctx.random() < 0.4
    ctx.world.emulator.fail('POST /v2/transfer', {
      afterProcessing: true,
      ...(hang ? { delayMs: STARK_TIMEOUT_MS * 3 } : { status: 500 }),
      hideFromListsMs: between(ctx.random, 3_000, 12_000),
    })
    ctx.count(hang ? 'lost answer (hang) + list lag' : 'lost answer (500) + list lag')
  },
}

const authOutage: Scenario = {
  name: 'auth-outage',
  description: '401 invalidCredentials for 8 s, later 401 invalidAccessTime for 8 s, on every request',
  ledgers: ['sqlite', 'postgres'],
  cycleMs: 1_000,
  minFaultMs: 20_000,
  cycle(ctx) {
    const at = (share: number) => Math.max(1, Math.ceil(ctx.cycles * share))
    const code =
      ctx.cycle === at(0.2) ? 'invalidCredentials' : ctx.cycle === at(0.6) ? 'invalidAccessTime' : undefined
    if (!code || (code === 'invalidAccessTime' && at(0.6) === at(0.2))) return
    ctx.world.emulator.authOutage(8_000, code)
    ctx.count(`auth outage 8 s (${code})`)
  },
}

/** Slow transfer calls and relays paused past their lease: the claim moves on while a call is out. */
const staleRelay: Scenario = {
  name: 'stale-relay',
  description:
    'two relays, RELAY_LEASE_MS 4 s (the least configuration allows), a slow bank, one relay paused 4.5–6 s mid-call',
  ledgers: ['sqlite', 'postgres'],
  cycleMs: 1_000,
  processes: 2,
  env: () => ({ RELAY_LEASE_MS: String(minTransferLeaseMs(STARK_TIMEOUT_MS)) }),
  start(ctx) {
    let frozen = false
    ctx.world.emulator.onRequest = async (route) => {
      if (route !== 'POST /v2/transfer' || frozen || ctx.random() > 0.4) return
      frozen = true
      const process = pick(ctx.random, ctx.processes)
      ctx.count('relay process paused past its lease mid-call')
      ctx.inBackground(process.freeze(between(ctx.random, 4_500, 6_000)).finally(() => (frozen = false)))
    }
  },
  cycle(ctx) {
    ctx.world.emulator.fail('POST /v2/transfer', { delayMs: Math.floor(STARK_TIMEOUT_MS * 0.8), times: 2 })
    ctx.count('slow transfer calls (0.8 × timeout)', 2)
  },
  finish(ctx) {
    ctx.world.emulator.onRequest = undefined
  },
}

const dailyLimit: Scenario = {
  name: 'daily-limit',
  description: 'two relays against TRANSFER_MAX_DAILY_AMOUNT ≈ half of what is credited, slow calls',
  ledgers: ['sqlite', 'postgres'],
  cycleMs: 1_000,
  processes: 2,
  env: (invoices) => ({ TRANSFER_MAX_DAILY_AMOUNT: String(Math.round((invoices * MEAN_INVOICE) / 2)) }),
  cycle(ctx) {
    if (ctx.random() < 0.5) {
      ctx.world.emulator.fail('POST /v2/transfer', { delayMs: Math.floor(STARK_TIMEOUT_MS * 0.5) })
      ctx.count('slow transfer call (0.5 × timeout)')
    }
  },
}

/** The run pays the invoices itself: some late with fine and interest, some credited twice. */
const credits: Scenario = {
  name: 'credits',
  description: 'invoices paid late with fine and interest, and second credited logs later',
  ledgers: ['sqlite', 'postgres'],
  cycleMs: 1_000,
  emulator: { payShare: 0 },
  reconciles: true,
  cycle: (ctx) => payAndCreditAgain(ctx),
  finish: (ctx) => payAndCreditAgain(ctx, true),
}

function payAndCreditAgain(ctx: ScenarioContext, all = false) {
  const { emulator } = ctx.world
  for (const invoice of emulator.invoices()) {
    if (invoice.status === 'created' && (all || ctx.random() < 0.7)) {
      const late = ctx.random() < 0.5
      const fine = Math.round(invoice.amount * 0.02)
      emulator.payInvoice(
        invoice.id,
        late ? { fineAmount: fine, interestAmount: between(ctx.random, 1, 900) } : undefined,
      )
      ctx.count(late ? 'paid late (fine + interest)' : 'paid on time')
    } else if (invoice.status === 'paid' && !all && ctx.random() < 0.08) {
      emulator.creditAgain(invoice.id, between(ctx.random, 1, 5_000))
      ctx.count('second credited log')
    }
  }
}

const transferEvents: Scenario = {
  name: 'transfer-events',
  description:
    'transfer webhooks created → processing → success/failed (20 % failed), out of order, 30 % twice',
  ledgers: ['sqlite', 'postgres'],
  cycleMs: 1_000,
  emulator: {
    transferEvents: {
      processingAfterMs: 300,
      settledAfterMs: 1_200,
      failShare: 0.2,
      reorderMs: 2_500,
      duplicateShare: 0.3,
    },
  },
}

export function scenarios(options: ScenarioOptions): Scenario[] {
  return [
    mixedScenario(options),
    ledgerOutage,
    ledgerFreeze,
    lostAnswer,
    authOutage,
    staleRelay,
    dailyLimit,
    credits,
    transferEvents,
    sqsDlq,
  ]
}

export const SCENARIO_NAMES = scenarios({ seed: 0, stripeEvents: 0, volatileSqs: false }).map((s) => s.name)

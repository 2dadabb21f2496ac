import { join } from 'node:path'
import { sqsQueue } from '../../src/adapters/sqs/queue.ts'
import { privateKeyFromPem, sign } from '../../src/adapters/starkbank/ecdsa.ts'
import { webhookBody } from '../../src/emulator/webhooks.ts'
import type { Queue } from '../../src/ports/queue.ts'
import {
  between,
  FAULT_ROUTES,
  pick,
  STARK_FAULTS,
  STRIPE_FAULTS,
  shuffled,
  starkFault,
  stripeReply,
} from './faults.ts'
import { holdLedgerBusy } from './processes.ts'
import type { Scenario, ScenarioContext, ScenarioOptions } from './scenario.ts'
import { STARK_TIMEOUT_MS, STRIPE_QUEUE, STRIPE_TIMEOUT_MS } from './world.ts'

const ROOT = join(import.meta.dir, '../..')

/**
 * kill -9 at random moments and mid-request, Stark Bank and Stripe downstream faults, an SQS server
 * restart, webhooks replayed out of order and twice, a busy ledger (SQLite) or a short freeze
 * (PostgreSQL), with Stripe events (some sent twice, some through `stripe enqueue`).
 */
export function mixedScenario(options: ScenarioOptions): Scenario & { cliEnqueues(): number } {
  const stripeIds = Array.from({ length: options.stripeEvents }, (_, i) => `evt_chaos${options.seed}_${i}`)
  let stripeNext = 0
  const stripeSent: string[] = []
  let cliEnqueues = 0
  let stripeQueue: Queue | undefined
  let killHook: 'stark' | 'stripe' | undefined

  async function queue(ctx: ScenarioContext): Promise<Queue> {
    stripeQueue ??= sqsQueue({
      client: ctx.world.sqs,
      queueUrl: await ctx.world.provision(STRIPE_QUEUE),
      waitTimeSeconds: 0,
    })
    return stripeQueue
  }

  function stripeMessage(ctx: ScenarioContext, id: string): string {
    const event = {
      id,
      object: 'event',
      api_version: '2024-06-20',
      created: 1_764_000_000,
      type: 'invoice.paid',
      livemode: false,
      data: { object: { id: `in_${id.slice(4)}`, object: 'invoice' } },
    }
    const shape = pick(ctx.random, ['raw', 'eventbridge', 'sns'] as const)
    if (shape === 'raw') return JSON.stringify(event)
    const bridge = JSON.stringify({
      'detail-type': event.type,
      source: 'aws.partner/stripe.com',
      detail: event,
    })
    return shape === 'eventbridge' ? bridge : JSON.stringify({ Type: 'Notification', Message: bridge })
  }

  async function enqueueStripe(ctx: ScenarioContext, n: number) {
    const ids = stripeIds.slice(stripeNext, stripeNext + n)
    // Standard SQS (and Stripe itself) may deliver an event twice: resend a few already sent.
    const again = shuffled(ctx.random, stripeSent).slice(0, Math.ceil(ids.length / 5))
    const bodies = [...ids, ...again].map((id) => stripeMessage(ctx, id))
    try {
      if (ctx.random() < 0.4) {
        const file = join(ctx.dir, `stripe-${stripeNext}.jsonl`)
        await Bun.write(file, `${bodies.join('\n')}\n`)
        const cli = Bun.spawn([process.execPath, 'run', 'src/main.ts', 'stripe', 'enqueue', file], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', ...ctx.world.env, LOG_LEVEL: 'error' },
          stdout: 'ignore',
          stderr: 'pipe',
        })
        const timer = setTimeout(() => cli.kill('SIGKILL'), 30_000)
        const code = await cli.exited
        clearTimeout(timer)
        if (code !== 0)
          throw new Error(`stripe enqueue exited ${code}: ${await new Response(cli.stderr).text()}`)
        cliEnqueues++
      } else {
        await (await queue(ctx)).send(bodies.map((body) => ({ body })))
      }
      stripeNext += ids.length
      stripeSent.push(...ids)
      ctx.count('stripe events sent twice', again.length)
    } catch (err) {
      ctx.say(`  Stripe batch not queued (${String(err).slice(0, 120)}); retried later`)
    }
  }

  async function replayWebhooks(ctx: ScenarioContext) {
    const { random, world } = ctx
    const secret = privateKeyFromPem(world.signingKeyPem)
    const events = world.emulator.events()
    const chosen = shuffled(random, events).slice(
      0,
      between(random, 1, Math.max(1, Math.ceil(events.length / 3))),
    )
    // Out of order (shuffled, older after newer) and twice for some.
    for (const event of shuffled(random, [...chosen, ...chosen.filter(() => random() < 0.5)])) {
      const { attempts: _, ...wire } = event
      const body = webhookBody(wire)
      const status = await fetch(world.webhookUrl, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/json', 'Digital-Signature': sign(body, secret) },
        signal: AbortSignal.timeout(5_000),
      })
        .then((r) => r.status)
        .catch(() => 0)
      ctx.count(status === 200 ? 'webhooks re-delivered (accepted)' : 'webhooks re-delivered (refused/down)')
    }
  }

  function stressLedger(ctx: ScenarioContext) {
    const { random, world } = ctx
    if (world.postgres) {
      const ms = between(random, 1_000, 4_000)
      const server = world.postgres
      ctx.inBackground(server.freeze(ms).then(() => ctx.count('PostgreSQL frozen 1–4 s')))
      return
    }
    // Mostly under paybridge's busy_timeout (5 s), sometimes past it.
    const ms = random() < 0.75 ? between(random, 1_000, 4_000) : between(random, 5_500, 7_000)
    ctx.inBackground(
      holdLedgerBusy(world.ledgerPath, ms).then((held) =>
        ctx.count(
          held
            ? `ledger held busy ${ms > 5_000 ? '> busy_timeout' : '< busy_timeout'}`
            : 'ledger hold skipped',
        ),
      ),
    )
  }

  async function restartSqs(ctx: ScenarioContext) {
    await ctx.world.fauxqs.kill()
    await Bun.sleep(between(ctx.random, 300, 2_000))
    await ctx.world.fauxqs.start()
    ctx.count(options.volatileSqs ? 'SQS server restarts (state lost)' : 'SQS server restarts (state kept)')
    // After a volatile restart the run's own queue handle needs the queue again, as any producer would.
    if (options.volatileSqs) stripeQueue = undefined
  }

  return {
    name: 'mixed',
    description:
      'kill -9 cycles with 5xx, 429, hangs, lost answers, replays, a busy ledger and an SQS restart',
    ledgers: ['sqlite', 'postgres'],
    cycleMs: 2_500,
    stripeIds,
    cliEnqueues: () => cliEnqueues,
    start(ctx) {
      const paybridge = ctx.processes[0]
      const killMidRequest = async (what: string) => {
        killHook = undefined
        ctx.count(what)
        await paybridge?.kill()
      }
      ctx.world.emulator.onRequest = async (route) => {
        if (killHook === 'stark' && route === 'POST /v2/transfer')
          await killMidRequest('kill -9 mid Stark Bank transfer request')
      }
      ctx.world.downstream.onRequest = async () => {
        if (killHook === 'stripe') await killMidRequest('kill -9 mid Stripe POST')
      }
    },
    async cycle(ctx) {
      const { random, world } = ctx
      const cyclesLeft = ctx.cycles - ctx.cycle + 1
      const stepMs = Math.max(1, (ctx.cycleEnd - Date.now()) / 8)
      const steps: (() => Promise<void> | void)[] = [
        () => enqueueStripe(ctx, Math.ceil((stripeIds.length - stripeNext) / cyclesLeft)),
        () => {
          const kind = pick(random, STARK_FAULTS)
          world.emulator.fail(pick(random, FAULT_ROUTES), starkFault(kind, random, STARK_TIMEOUT_MS))
          ctx.count(`stark: ${kind}`)
        },
        () => {
          const kind = pick(random, STRIPE_FAULTS)
          world.downstream.script('*', stripeReply(kind, random, STRIPE_TIMEOUT_MS))
          ctx.count(`stripe downstream: ${kind}`)
        },
        () => replayWebhooks(ctx),
      ]
      steps.push(steps[1] as () => void, steps[2] as () => void)
      if (random() < 0.5) steps.push(() => stressLedger(ctx))
      const midRun = ctx.cycle === Math.ceil(ctx.cycles / 2)
      if (random() < 0.35 || midRun) steps.push(() => restartSqs(ctx))
      if (random() < 0.5) {
        const target = random() < 0.6 ? 'stark' : 'stripe'
        steps.push(() => {
          killHook = target
        })
      }
      for (const step of shuffled(random, steps)) {
        if (Date.now() >= ctx.cycleEnd) break
        await step()
        const left = ctx.cycleEnd - Date.now()
        if (left > 0) await Bun.sleep(Math.floor(random() * Math.min(left, stepMs)))
      }
      const left = ctx.cycleEnd - Date.now()
      if (left > 0) await Bun.sleep(left)
      killHook = undefined
      const paybridge = ctx.processes[0]
      if (paybridge?.running()) {
        await paybridge.kill()
        ctx.count('kill -9 at a random moment')
      }
      await Bun.sleep(between(random, 0, 800))
    },
    async finish(ctx) {
      ctx.world.emulator.onRequest = undefined
      ctx.world.downstream.onRequest = undefined
      const deadline = Date.now() + 30_000
      while (stripeNext < stripeIds.length && Date.now() < deadline)
        await enqueueStripe(ctx, stripeIds.length - stripeNext)
    },
  }
}

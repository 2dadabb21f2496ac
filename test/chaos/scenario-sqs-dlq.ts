import { GetQueueUrlCommand } from '@aws-sdk/client-sqs'
import { deadLetterQueueName } from '../../src/adapters/sqs/provision.ts'
import { sqsQueue } from '../../src/adapters/sqs/queue.ts'
import { webhookBody } from '../../src/emulator/webhooks.ts'
import { cli } from './operator.ts'
import type { Scenario, ScenarioContext } from './scenario.ts'
import { STARK_QUEUE } from './world.ts'

/**
 * Some credited events reach paybridge only through the SQS dead-letter queue (as after a crash loop
 * or an outage on a receive limit): their webhooks are held back, their bodies put on `<queue>-dlq`
 * and the events marked delivered at Stark Bank, which then never resends them.
 */
export const sqsDlq: Scenario = {
  name: 'sqs-dlq',
  description: 'credited events only on the SQS dead-letter queue (webhook never sent, marked delivered)',
  ledgers: ['sqlite', 'postgres'],
  cycleMs: 1_000,
  async cycle(ctx) {
    const { emulator, bank, sqs, provision, webhookUrl } = ctx.world
    if (ctx.random() > 0.3) return
    const before = new Set(emulator.events().map((e) => e.id))
    emulator.setWebhookUrl(undefined)
    await Bun.sleep(700)
    emulator.setWebhookUrl(webhookUrl)
    const held = emulator.events().filter((e) => !before.has(e.id) && e.attempts.length === 0)
    if (held.length === 0) return
    await provision(STARK_QUEUE)
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: deadLetterQueueName(STARK_QUEUE, false) }),
    )
    const dlq = sqsQueue({ client: sqs, queueUrl: QueueUrl ?? '', waitTimeSeconds: 0 })
    await dlq.send(held.map(({ attempts: _, ...event }) => ({ body: webhookBody(event) })))
    for (const event of held) await bank.markEventDelivered(event.id)
    ctx.count('credited events only on the SQS DLQ', held.length)
  },
  operate: replayDeadLetters,
}

let lastReplay = 0

/** As an operator would: every dead letter in the ledger replayed with the CLI (either ledger). */
async function replayDeadLetters(ctx: ScenarioContext) {
  if (Date.now() - lastReplay < 3_000) return
  lastReplay = Date.now()
  const rows = await ctx.world.ledger.all<{ id: number }>('select id from dead_letters').catch(() => [])
  if (rows.length === 0) return
  const code = await cli(ctx.world.env, ['ledger', 'dead-letters', 'replay', '--all'])
  ctx.count(
    code === 0 ? 'dead letters replayed with the CLI' : `dead letter replay exited ${code}`,
    rows.length,
  )
}

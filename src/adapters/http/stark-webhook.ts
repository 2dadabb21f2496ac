import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { parseBankEvent } from '../../app/bank-event-schema.ts'
import { eventGroup } from '../../domain/bank-event.ts'
import type { Log } from '../../ports/log.ts'
import type { Metrics } from '../../ports/metrics.ts'
import type { Queue } from '../../ports/queue.ts'
import type { SignatureVerifier } from '../starkbank/webhook-signature.ts'

/**
 * `POST /webhook/starkbank`. Stark Bank signs the raw body: verify before parsing. A 200 means the
 * event is on the queue; anything Stark should retry (queue or key unavailable) is a 503.
 */
export function starkWebhook(deps: {
  verifier: SignatureVerifier
  queue: Queue
  log: Log
  maxBodyBytes?: number
  metrics?: Pick<Metrics, 'webhook' | 'verifyDuration'> | undefined
}) {
  const { verifier, queue, log, metrics } = deps
  const maxSize = deps.maxBodyBytes ?? 64 * 1024
  const app = new Hono()
  const utf8 = new TextDecoder()

  app.post(
    '/',
    bodyLimit({
      maxSize,
      onError: (c) => {
        metrics?.webhook('too_large')
        return c.json({ error: `body over ${maxSize} bytes` }, 413)
      },
    }),
    async (c) => {
      const signature = c.req.header('Digital-Signature')
      if (!signature) {
        metrics?.webhook('bad_signature')
        return c.json({ error: 'missing Digital-Signature header' }, 401)
      }
      const raw = new Uint8Array(await c.req.arrayBuffer())
      let valid: boolean
      try {
        const started = performance.now()
        valid = await verifier.verify(raw, signature)
        metrics?.verifyDuration((performance.now() - started) / 1000)
      } catch (err) {
        metrics?.webhook('unavailable')
        log.error('cannot load Stark Bank public key', { error: String(err) })
        return c.json({ error: 'signature cannot be checked right now' }, 503)
      }
      if (!valid) {
        metrics?.webhook('bad_signature')
        log.warn('webhook refused: bad signature', { bytes: raw.length })
        return c.json({ error: 'invalid Digital-Signature' }, 401)
      }
      const body = utf8.decode(raw)
      const parsed = parseBankEvent(body)
      if (!parsed.ok) {
        metrics?.webhook('malformed')
        log.warn('webhook refused: malformed', { reason: parsed.reason })
        return c.json({ error: parsed.reason }, 400)
      }
      const { event } = parsed
      try {
        await queue.send([{ body, dedupId: event.id, groupId: eventGroup(event) }])
      } catch (err) {
        metrics?.webhook('unavailable')
        log.error('webhook not queued; Stark Bank will retry', { eventId: event.id, error: String(err) })
        return c.json({ error: 'queue unavailable' }, 503)
      }
      metrics?.webhook('accepted')
      log.info('webhook accepted', {
        eventId: event.id,
        subscription: event.subscription,
        type: event.log.type,
        invoiceId: event.log.invoice?.id,
      })
      return c.json({ ok: true, eventId: event.id })
    },
  )
  return app
}

import { adminRoutes } from '../adapters/http/admin.tsx'
import {
  healthRoutes,
  queueCheck,
  type ReadinessCheck,
  starkKeyCheck,
  unresolvedTransfersAlert,
} from '../adapters/http/health.ts'
import { httpApp } from '../adapters/http/server.ts'
import { starkWebhook } from '../adapters/http/stark-webhook.ts'
import { metricsRoute, type PrometheusMetrics } from '../adapters/metrics/prometheus.ts'
import { starkSignatureVerifier } from '../adapters/starkbank/webhook-signature.ts'
import { reconcileLedger } from '../app/reconcile-ledger.ts'
import { recentReconciliation } from '../app/reconcile-recent.ts'
import { replayDeadItem } from '../app/replay-dead-item.ts'
import type { Reconciliation } from '../domain/reconcile.ts'
import type { Queue, QueueDepth } from '../ports/queue.ts'
import type { RoleModule, Shared } from './shared.ts'

/** What `/admin` needs beside the ledger's views: where dead letters go back, what the queues hold. */
export interface AdminDeps {
  /** The queues a dead letter may be sent back on, by name. */
  queues: Record<string, Queue>
  /** The embedded queues' depths for the status page; undefined when the queues are on SQS. */
  queueDepths: (() => QueueDepth[]) | undefined
}

/**
 * The web role: the Stark Bank webhook (verified, then queued), `/metrics`, `/healthz` and `/readyz`
 * (the ledger, the queue, Stark Bank's key, and the other roles' `checks`), `/admin` with ADMIN_TOKEN,
 * and the recent days' reconciliation at start and every 10 minutes for the gauges and the status page.
 */
export function webRole(
  deps: Shared & {
    /** The process's registry: /metrics renders it. */
    metrics: PrometheusMetrics
    /** Readiness of the other roles (the scheduler and relay only where this process runs them). */
    checks: { consumer: ReadinessCheck; scheduler?: ReadinessCheck; transferRelay?: ReadinessCheck }
    admin: AdminDeps
    /** Called with the port once the server listens. */
    listening?: (port: number) => void
  },
): RoleModule & { port(): number } {
  const { config, ledger, queue, metrics, clock, log } = deps
  const verifier = starkSignatureVerifier({ fetchPublicKey: () => deps.bank.publicKey(), clock, log })
  const starkKey = starkKeyCheck(verifier)
  const reported = (r: Reconciliation, at: number) =>
    metrics.reconciliation({ ok: r.ok, mismatches: r.mismatches.length }, at)
  if (!config.adminToken) log.warn('admin surface off: set ADMIN_TOKEN (16+ characters) to serve /admin')
  const admin = config.adminToken
    ? adminRoutes({
        token: config.adminToken,
        views: ledger.views,
        ...(deps.admin.queueDepths ? { queueDepths: deps.admin.queueDepths } : {}),
        clock,
        replay: replayDeadItem({
          store: ledger.store,
          forwards: ledger.forwards,
          queues: deps.admin.queues,
          clock,
          log,
        }),
        onReconciled: reported,
      })
    : undefined
  const app = httpApp({
    log,
    routes: {
      '/webhook/starkbank': starkWebhook({ verifier, queue, log, metrics }),
      '/metrics': metricsRoute(metrics),
      // Without ADMIN_TOKEN there is no /admin route at all: 404.
      ...(admin ? { '/admin': admin } : {}),
      '/': healthRoutes({
        checks: {
          ledger: () => ledger.writable(),
          consumer: deps.checks.consumer,
          queue: queueCheck(queue),
          starkKey,
          ...(deps.checks.scheduler ? { scheduler: deps.checks.scheduler } : {}),
          ...(deps.checks.transferRelay ? { transferRelay: deps.checks.transferRelay } : {}),
        },
        alerts: { transfers: unresolvedTransfersAlert(ledger.store) },
      }),
    },
  })
  const reconciliation = recentReconciliation({
    reconcile: reconcileLedger(ledger.views),
    metrics,
    clock,
    log,
    atStart: true,
  })
  let server: Bun.Server<undefined> | undefined
  return {
    port: () => server?.port ?? 0,
    start() {
      // Stark Bank's key is asked for now rather than at the first /readyz probe: readiness waits for
      // it, and its round trip overlaps the rest of the start. A failure is the verifier's to log and
      // back off from, as a probe's would be.
      Promise.resolve(starkKey()).catch(() => {})
      reconciliation.start()
      server = Bun.serve({ port: config.port, hostname: config.host, fetch: app.fetch })
      log.info('listening', { url: `http://${config.host}:${server.port}`, webhook: '/webhook/starkbank' })
      deps.listening?.(server.port ?? 0)
    },
    async stop() {
      reconciliation.stop()
      await server?.stop()
    },
  }
}

/** @jsxImportSource hono/jsx */
// The JSX source is named here too: Bun 1.4.5 took it from the tsconfig.json of the folder it was
// started in, which a service manager may set anywhere (test/start-elsewhere.e2e.test.ts).
import { Hono } from 'hono'
import { html } from 'hono/html'
import * as v from 'valibot'
import { ledgerStatus, type StatusSnapshot } from '../../app/ledger-status.ts'
import { reconcileLedger } from '../../app/reconcile-ledger.ts'
import { parseSince, shownTime } from '../../domain/ledger-time.ts'
import type { Reconciliation } from '../../domain/reconcile.ts'
import { reconciliationJson } from '../../domain/reconcile-report.ts'
import type { Clock } from '../../ports/clock.ts'
import { type LedgerViews, QUERY_VIEWS, type QueryView } from '../../ports/ledger-views.ts'
import type { QueueDepth } from '../../ports/queue.ts'
import { ReconcileQuery, type ReplayKind, ReplayParams, ViewQuery } from './admin-api-schema.ts'
import { adminAuth } from './admin-auth.ts'
import { adminOpenApi } from './admin-openapi.ts'
import { StatusPage } from './admin-page.tsx'

/** The status numbers as scripts read them: times ISO 8601 UTC, the reconciliation's money in …Cents. */
const statusJson = (s: StatusSnapshot) => ({
  ...s,
  at: shownTime(s.at),
  counts: {
    ...s.counts,
    queues: s.counts.queues.map((q) => ({ ...q, oldestSentAt: shownTime(q.oldestSentAt) })),
  },
  reconciliation: reconciliationJson(s.reconciliation),
  dead: s.dead.map((d) => ({ ...d, at: shownTime(d.at) })),
})

export { REPLAY_KINDS, type ReplayKind } from './admin-api-schema.ts'

/** The input parsed by `schema`, or the message of its first issue (which names the field). */
const parsed = <S extends v.GenericSchema>(schema: S, input: unknown) => {
  const result = v.safeParse(schema, input)
  return result.success
    ? { ok: true as const, value: result.output }
    : { ok: false as const, error: result.issues[0].message }
}

/**
 * Puts a dead item back on its way: a dead transfer or forward (by its ledger id) back in the
 * outbox, every dead transfer at once (`transfers`, id `dead`), a dead letter (by its row id) back on
 * its queue. `ok: false` with a message when it cannot.
 */
export type Replay = (kind: ReplayKind, id: string) => Promise<{ ok: boolean; message: string }>

/**
 * The admin surface, to be mounted at `basePath` (default `/admin`) only when ADMIN_TOKEN is set:
 * without the token there is no admin route at all (404). Every route needs the token
 * (see `adminAuth`).
 *
 * - `GET /`: the status page (HTML);
 * - `GET /api/<view>?status=&since=&limit=`: the ledger views as JSON (`QUERY_VIEWS`);
 * - `GET /api/trace/:id`: one item's lineage; 404 when the ledger knows nothing of it;
 * - `GET /api/reconcile?day=|from=`: the reconciliation; `ok: false` lists the mismatches;
 * - `GET /api/status`: the status page's numbers as JSON;
 * - `POST /api/replay/:kind/:id`: calls `replay`; a form post is answered with a redirect to the page;
 * - `GET /api/openapi.json`: the OpenAPI 3.1 document of these JSON routes (`adminOpenApi`), generated
 *   from the schemas they validate with.
 *
 * `onReconciled` sees every reconciliation run here (the metrics' last result).
 */
export function adminRoutes(deps: {
  token: string
  /** The ledger's read side, on either engine: views, trace, status, reconcile. */
  views: LedgerViews
  /** The embedded queues' depths for the status numbers; absent when the queues are on SQS. */
  queueDepths?: () => QueueDepth[] | Promise<QueueDepth[]>
  replay?: Replay
  clock?: Clock
  basePath?: string
  onReconciled?: (result: Reconciliation, at: number) => void
}) {
  const clock = deps.clock ?? Date.now
  const basePath = deps.basePath ?? '/admin'
  const app = new Hono()
  app.use('*', adminAuth({ token: deps.token, basePath, clock }))
  // Ledger rows may carry people's names and tax ids: never cached on the way.
  app.use('*', async (c, next) => {
    await next()
    c.header('Cache-Control', 'no-store')
  })

  const status = ledgerStatus({
    views: deps.views,
    ...(deps.queueDepths ? { queueDepths: deps.queueDepths } : {}),
  })
  const reconcile = reconcileLedger(deps.views)
  const reconciled = (result: Reconciliation) => {
    deps.onReconciled?.(result, clock())
    return result
  }

  app.get('/', async (c) => {
    const snapshot = await status({ now: clock() })
    reconciled(snapshot.reconciliation)
    const page = StatusPage({
      snapshot,
      basePath,
      replayable: deps.replay !== undefined,
      notice: c.req.query('notice'),
    })
    return c.html(html`<!doctype html>${page}`)
  })

  app.get('/api/status', async (c) => {
    const snapshot = await status({ now: clock() })
    reconciled(snapshot.reconciliation)
    return c.json(statusJson(snapshot))
  })

  const openApi = adminOpenApi(basePath)
  app.get('/api/openapi.json', (c) => c.json(openApi))

  app.get('/api/reconcile', async (c) => {
    const query = parsed(ReconcileQuery, c.req.query())
    if (!query.ok) return c.json({ error: query.error }, 400)
    return c.json(reconciliationJson(reconciled(await reconcile({ ...query.value, now: clock() }))))
  })

  app.get('/api/trace/:id', async (c) => {
    const trace = await deps.views.trace(c.req.param('id'))
    return c.json(trace, trace.found ? 200 : 404)
  })

  app.get('/api/:view', async (c) => {
    const view = c.req.param('view') as QueryView
    if (!QUERY_VIEWS.includes(view))
      return c.json({ error: `unknown view; views: ${QUERY_VIEWS.join(', ')}` }, 404)
    const query = parsed(ViewQuery, c.req.query())
    if (!query.ok) return c.json({ error: query.error }, 400)
    const { status, limit } = query.value
    const since = parseSince(query.value.since, clock())
    return c.json(await deps.views.rows(view, { status, since, limit }))
  })

  app.post('/api/replay/:kind/:id', async (c) => {
    if (!deps.replay) return c.json({ error: 'replay is not available here' }, 404)
    const params = parsed(ReplayParams, c.req.param())
    if (!params.ok) return c.json({ error: params.error }, 404)
    const result = await deps.replay(params.value.kind, params.value.id)
    const fromForm = (c.req.header('Content-Type') ?? '').includes('application/x-www-form-urlencoded')
    if (fromForm) return c.redirect(`${basePath}?notice=${encodeURIComponent(result.message)}`, 303)
    return c.json(result, result.ok ? 200 : 409)
  })

  return app
}

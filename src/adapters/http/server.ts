import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { Log } from '../../ports/log.ts'

/** The HTTP surface: routes are mounted by the composition root. Errors never leak internals. */
export function httpApp(deps: { log: Log; routes: Record<string, Hono> }) {
  const app = new Hono()
  for (const [path, routes] of Object.entries(deps.routes)) app.route(path, routes)
  app.notFound((c) => c.json({ error: 'not found' }, 404))
  app.onError((err, c) => {
    if (err instanceof HTTPException) return c.json({ error: err.message }, err.status)
    deps.log.error('request failed', { path: c.req.path, error: err.message })
    return c.json({ error: 'internal error' }, 500)
  })
  return app
}

import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Hono } from 'hono'
import { embeddedQueueDepths } from '../src/adapters/embedded-queue/queue-depths.ts'
import { adminRoutes, type ReplayKind } from '../src/adapters/http/admin.tsx'
import type { OpenLedger } from '../src/adapters/ledger/open.ts'
import type { Reconciliation } from '../src/domain/reconcile.ts'
import type { Trace } from '../src/ports/ledger-views.ts'
import { DAY, NOW, type PlantedLedger, plantLedger, plantPostgresLedger } from './support/ledger-fixture.ts'
import { type Postgres, startPostgres } from './support/postgres.ts'

const TOKEN = 'admin-token-for-tests-3f9a'

let planted: PlantedLedger
const replays: [ReplayKind, string][] = []
const reconciled: boolean[] = []
let app: Hono

let server: Postgres
let pgStores: OpenLedger
beforeAll(async () => {
  ;[planted, server] = await Promise.all([plantLedger(), startPostgres()])
  pgStores = await plantPostgresLedger(await server.createDatabase('admin_views'))
  app = new Hono().route(
    '/admin',
    adminRoutes({
      token: TOKEN,
      views: planted.stores.views,
      queueDepths: embeddedQueueDepths(planted.ledger),
      clock: () => NOW,
      replay: async (kind, id) => {
        replays.push([kind, id])
        return { ok: true, message: `${kind} ${id} put back on its way` }
      },
      onReconciled: (result) => reconciled.push(result.ok),
    }),
  )
}, 60_000)
afterAll(async () => {
  await Promise.all([planted.cleanup(), pgStores?.close()])
  await server?.stop()
})

const bearer = (token = TOKEN) => ({ headers: { Authorization: `Bearer ${token}` } })

describe('admin token', () => {
  it('refuses requests without a token, with a wrong one, or with a token of another length', async () => {
    for (const init of [{}, bearer('admin-token-for-tests-3f9b'), bearer('x'), bearer(`${TOKEN}x`)]) {
      const res = await app.request('/admin/api/transfers', init)
      expect(res.status).toBe(401)
      expect(res.headers.get('WWW-Authenticate')).toContain('Bearer')
      expect(await res.text()).not.toContain(TOKEN)
    }
    const page = await app.request('/admin', { headers: { Accept: 'text/html' } })
    expect(page.status).toBe(401)
    expect(await page.text()).toContain('/admin?token=')
  })

  it('takes the right bearer token', async () => {
    const res = await app.request('/admin/api/transfers', bearer())
    expect(res.status).toBe(200)
    expect(res.headers.get('Cache-Control')).toBe('no-store')
  })

  it('trades ?token= for an HttpOnly SameSite=Strict cookie and drops the token from the URL', async () => {
    const wrong = await app.request('/admin?token=nope')
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('Set-Cookie')).toBeNull()

    const res = await app.request(`/admin?token=${TOKEN}`)
    expect(res.status).toBe(303)
    expect(res.headers.get('Location')).toBe('/admin')
    const cookie = res.headers.get('Set-Cookie') ?? ''
    expect(cookie).toMatch(/^paybridge_admin=[^;]+;/)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/admin')
    expect(cookie).not.toContain(TOKEN)

    const session = cookie.split(';')[0] as string
    const page = await app.request('/admin', { headers: { Cookie: session } })
    expect(page.status).toBe(200)
    expect(page.headers.get('Content-Type')).toContain('text/html')
    const forged = await app.request('/admin', { headers: { Cookie: 'paybridge_admin=forged' } })
    expect(forged.status).toBe(401)
  })
})

describe('admin sessions and cross-site requests', () => {
  const HOUR = 3_600_000
  let now = NOW
  const clocked = () =>
    new Hono().route(
      '/admin',
      adminRoutes({
        token: TOKEN,
        views: planted.stores.views,
        clock: () => now,
        replay: async (kind, id) => {
          replays.push([kind, id])
          return { ok: true, message: `${kind} ${id} put back on its way` }
        },
      }),
    )
  const signIn = async (admin: Hono) => {
    const res = await admin.request(`http://paybridge.test/admin?token=${TOKEN}`)
    expect(res.status).toBe(303)
    return (res.headers.get('Set-Cookie') ?? '').split(';')[0] as string
  }
  const replay = (admin: Hono, headers: Record<string, string>) =>
    admin.request('http://paybridge.test/admin/api/replay/transfer/paybridge-invoice-sf', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: '',
    })

  it('ends a session server-side after 12 hours; the page then asks for the token again', async () => {
    now = NOW
    const admin = clocked()
    const session = await signIn(admin)
    now = NOW + 12 * HOUR - 1
    expect(
      (await admin.request('http://paybridge.test/admin', { headers: { Cookie: session } })).status,
    ).toBe(200)
    now = NOW + 12 * HOUR
    const expired = await admin.request('http://paybridge.test/admin', {
      headers: { Cookie: session, Accept: 'text/html' },
    })
    expect(expired.status).toBe(401)
    const page = await expired.text()
    expect(page).toContain('expired')
    expect(page).toContain('name="token"')
    // A cookie whose time was moved forward no longer matches its MAC.
    const [name, value] = session.split('=') as [string, string]
    const [, mac] = value.split('.') as [string, string]
    const moved = `${name}=${now}.${mac}`
    expect((await admin.request('http://paybridge.test/admin', { headers: { Cookie: moved } })).status).toBe(
      401,
    )
    // The session cookie of the old, unexpiring kind (one MAC of the token) is not a session any more.
    expect(
      (await admin.request('http://paybridge.test/admin', { headers: { Cookie: `${name}=${mac}` } })).status,
    ).toBe(401)
  })

  it('refuses a state-changing request from another site with 403, and takes it from the page itself', async () => {
    now = NOW
    const admin = clocked()
    const session = await signIn(admin)
    replays.length = 0
    const crossSite: Record<string, string>[] = [
      { Origin: 'https://evil.example' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site', Origin: 'https://other.paybridge.test' },
      { Origin: 'null' },
      {}, // a cookie alone cannot show where the request came from
    ]
    for (const headers of crossSite) {
      const res = await replay(admin, { Cookie: session, ...headers })
      expect(res.status).toBe(403)
    }
    // A bearer token is never sent by another site's page, but its origin is checked all the same.
    expect((await replay(admin, { ...bearer().headers, Origin: 'https://evil.example' })).status).toBe(403)
    expect(replays).toEqual([])

    const sameOrigin = await replay(admin, { Cookie: session, Origin: 'http://paybridge.test' })
    expect(sameOrigin.status).toBe(303)
    const fetched = await replay(admin, { Cookie: session, 'Sec-Fetch-Site': 'same-origin' })
    expect(fetched.status).toBe(303)
    const script = await replay(admin, bearer().headers)
    expect(script.status).toBe(303)
    expect(replays).toHaveLength(3)
    replays.length = 0
  })
})

// The view and trace routes read whichever ledger's views they are given: the same answers on both.
for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`admin JSON views on ${engine}`, () => {
    const api = () =>
      new Hono().route(
        '/admin',
        adminRoutes({
          token: TOKEN,
          views: engine === 'sqlite' ? planted.stores.views : pgStores.views,
          clock: () => NOW,
        }),
      )

    it('lists ledger views with filters', async () => {
      const res = await api().request('/admin/api/transfers?status=failed', bearer())
      expect(((await res.json()) as { transfer: string }[]).map((r) => r.transfer)).toEqual([
        'paybridge-invoice-sc',
      ])
      const forwards = (await (
        await api().request('/admin/api/forwards?status=dead', bearer())
      ).json()) as unknown[]
      expect(forwards).toHaveLength(1)
      expect((await api().request('/admin/api/nope', bearer())).status).toBe(404)
      expect((await api().request('/admin/api/runs?since=yesterday', bearer())).status).toBe(400)
    })

    it('traces an id, 404 when the ledger does not know it', async () => {
      const res = await api().request('/admin/api/trace/evt-a', bearer())
      const trace = (await res.json()) as Trace
      expect(trace.steps.map((s) => s.step)).toEqual([
        'run',
        'invoice',
        'event',
        'outbox',
        'transfer',
        'event',
      ])
      expect((await api().request('/admin/api/trace/unknown', bearer())).status).toBe(404)
    })
  })
}

// Status, reconcile and replay read whichever ledger's views they are given: the same answers on both.
for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`admin status, reconcile and replay on ${engine}`, () => {
    const replays: [ReplayKind, string][] = []
    const reconciled: boolean[] = []
    let app: Hono
    beforeAll(() => {
      app = new Hono().route(
        '/admin',
        adminRoutes({
          token: TOKEN,
          views: engine === 'sqlite' ? planted.stores.views : pgStores.views,
          // The embedded queue lives in the SQLite file; beside PostgreSQL the queues are on SQS.
          ...(engine === 'sqlite' ? { queueDepths: embeddedQueueDepths(planted.ledger) } : {}),
          clock: () => NOW,
          replay: async (kind, id) => {
            replays.push([kind, id])
            return { ok: true, message: `${kind} ${id} put back on its way` }
          },
          onReconciled: (result) => reconciled.push(result.ok),
        }),
      )
    })

    it('reconciles, listing the planted mismatches, and reports the result', async () => {
      reconciled.length = 0
      const res = await app.request(`/admin/api/reconcile?day=${DAY}`, bearer())
      const result = (await res.json()) as Reconciliation
      expect(result.ok).toBe(false)
      expect(result.mismatches.map((m) => m.kind).sort()).toEqual([
        'amount-differs',
        'missing-transfer',
        'transfer-dead',
        'transfer-failed',
      ])
      expect(reconciled).toEqual([false])
      expect((await app.request('/admin/api/reconcile?day=2026-13-01', bearer())).status).toBe(400)
    })

    it('gives the status numbers, and never a transfer request or a message body', async () => {
      const res = await app.request('/admin/api/status', bearer())
      const text = await res.text()
      const status = JSON.parse(text)
      expect(status.flow).toEqual({
        issued: 7,
        credited: 6,
        queued: 5,
        created: 4,
        confirmed: 2,
        pending: 0,
        held: 0,
        failed: 1,
        dead: 1,
      })
      expect(status.stripe).toEqual({ received: 2, delivered: 1, pending: 0, dead: 1 })
      expect(text).not.toContain('accountNumber')
      expect(text).not.toContain('{\\"event\\": oops')
    })

    it('replays a dead item through the injected function, from a script or from the page form', async () => {
      const json = await app.request('/admin/api/replay/forward/evt_bad', { method: 'POST', ...bearer() })
      expect(json.status).toBe(200)
      expect(await json.json()).toEqual({ ok: true, message: 'forward evt_bad put back on its way' })
      const form = await app.request('/admin/api/replay/dead-letter/1', {
        method: 'POST',
        headers: { ...bearer().headers, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: '',
      })
      expect(form.status).toBe(303)
      expect(form.headers.get('Location')).toBe(
        `/admin?notice=${encodeURIComponent('dead-letter 1 put back on its way')}`,
      )
      expect(replays).toEqual([
        ['forward', 'evt_bad'],
        ['dead-letter', '1'],
      ])
      expect((await app.request('/admin/api/replay/other/1', { method: 'POST', ...bearer() })).status).toBe(
        404,
      )
    })

    it('offers one action that replays every dead transfer, through the same replay', async () => {
      const page = await (await app.request('/admin', bearer())).text()
      expect(page).toContain('action="/admin/api/replay/transfers/dead"')
      replays.length = 0
      const res = await app.request('/admin/api/replay/transfers/dead', { method: 'POST', ...bearer() })
      expect(res.status).toBe(200)
      expect(replays).toEqual([['transfers', 'dead']])
    })
  })
}

describe('admin without replay', () => {
  it('offers no replay when none is wired', async () => {
    const bare = new Hono().route(
      '/admin',
      adminRoutes({ token: TOKEN, views: planted.stores.views, clock: () => NOW }),
    )
    const res = await bare.request('/admin/api/replay/forward/evt_bad', { method: 'POST', ...bearer() })
    expect(res.status).toBe(404)
    const page = await (await bare.request('/admin', bearer())).text()
    expect(page).not.toContain('<button')
  })
})

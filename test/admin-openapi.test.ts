import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Hono } from 'hono'
import * as v from 'valibot'
import { ADMIN_OPERATIONS, type AdminOperation, jsonSchemaOf } from '../src/adapters/http/admin-openapi.ts'
import { QUERY_VIEWS } from '../src/ports/ledger-views.ts'
import { DAY } from './support/ledger-fixture.ts'
import { plantedAdmins } from './support/planted-admin.ts'

// /admin/api/openapi.json against the routes themselves: the document is generated from the
// schemas the routes validate with, and every documented path is called on a planted ledger.

const TOKEN = 'admin-token-for-openapi-7c1d'
const auth = { Authorization: `Bearer ${TOKEN}` }

const admins = plantedAdmins({
  token: TOKEN,
  database: 'admin_openapi',
  replay: async (kind, id) =>
    id === 'gone'
      ? { ok: false, message: `${kind} ${id} is not dead` }
      : { ok: true, message: `${kind} ${id} replayed` },
})
beforeAll(() => admins.setUp(), 60_000)
afterAll(() => admins.tearDown())
const admin = admins.admin

interface Doc {
  openapi: string
  info: { title: string; version: string }
  security: Record<string, string[]>[]
  components: {
    securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }>
  }
  paths: Record<string, Record<string, DocOperation>>
}
interface DocParameter {
  name: string
  in: string
  required: boolean
  schema: Record<string, unknown>
}
interface DocOperation {
  summary: string
  parameters: DocParameter[]
  responses: Record<string, { description: string; content: { 'application/json': { schema: unknown } } }>
}

const documentOf = async (app: Hono) => {
  const res = await app.request('/admin/api/openapi.json', { headers: auth })
  expect(res.status).toBe(200)
  return (await res.json()) as Doc
}

/** Each documented parameter: a value the route takes and, where one exists, one it refuses. */
const EXAMPLES: Record<string, { good: string; bad?: string }> = {
  status: { good: 'dead' },
  since: { good: '2026-02-01', bad: 'yesterday' },
  limit: { good: '2', bad: '1001' },
  day: { good: DAY, bad: '2026-13-01' },
  from: { good: '2026-02-28', bad: 'soon' },
  id: { good: 'evt-a' },
  kind: { good: 'transfer', bad: 'other' },
}
const REPLAY_ID = 'paybridge-invoice-sf'

const operationOf = (path: string, method: string) =>
  ADMIN_OPERATIONS.find((o) => `/admin${o.path}` === path && o.method === method) as AdminOperation

const urlOf = (path: string, values: Record<string, string> = {}) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(
      values[name] ?? (path.includes('replay') && name === 'id' ? REPLAY_ID : (EXAMPLES[name]?.good ?? '')),
    ),
  )

describe('the admin OpenAPI document', () => {
  it('is OpenAPI 3.1 in shape: every route, its parameters, its responses and both ways in', async () => {
    const doc = await documentOf(admin('sqlite'))
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.title).toBeTruthy()
    expect(doc.info.version).toBeTruthy()
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(doc.components.securitySchemes.session).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'paybridge_admin',
    })
    expect(doc.security).toEqual([{ bearer: [] }, { session: [] }])
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/admin/api/status',
        '/admin/api/reconcile',
        '/admin/api/trace/{id}',
        '/admin/api/replay/{kind}/{id}',
        ...QUERY_VIEWS.map((view) => `/admin/api/${view}`),
      ].sort(),
    )
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        expect(['get', 'post']).toContain(method)
        expect(op.summary).toBeTruthy()
        const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string)
        expect(op.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(templated)
        for (const p of op.parameters) {
          expect(['path', 'query']).toContain(p.in)
          if (p.in === 'path') expect(p.required).toBe(true)
          expect(p.schema.type).toBe('string')
        }
        expect(Object.keys(op.responses)).toContain('401')
        expect(Object.keys(op.responses).some((s) => s.startsWith('2'))).toBe(true)
        for (const [status, r] of Object.entries(op.responses)) {
          expect(status).toMatch(/^[1-5][0-9]{2}$/)
          expect(r.description).toBeTruthy()
          expect(r.content['application/json'].schema).toBeObject()
        }
      }
    }
  })

  it("holds the JSON Schemas generated from the routes' own valibot schemas", async () => {
    const doc = await documentOf(admin('sqlite'))
    for (const op of ADMIN_OPERATIONS) {
      const described = doc.paths[`/admin${op.path}`]?.[op.method] as DocOperation
      for (const [status, r] of Object.entries(op.responses))
        expect(described.responses[status]?.content['application/json'].schema).toEqual(
          jsonSchemaOf(r.schema),
        )
      for (const [where, schema] of [
        ['path', op.params],
        ['query', op.query],
      ] as const)
        for (const [name, entry] of Object.entries(schema?.entries ?? {})) {
          const { description: _, ...json } = jsonSchemaOf(entry as v.GenericSchema, 'input')
          expect(described.parameters.find((p) => p.name === name && p.in === where)?.schema).toEqual(json)
        }
    }
  })

  it('is behind the admin token like every admin route', async () => {
    expect((await admin('sqlite').request('/admin/api/openapi.json')).status).toBe(401)
  })
})

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`the admin routes as documented, on ${engine}`, () => {
    const call = (app: Hono, _path: string, method: string, url: string) =>
      app.request(url, { method: method.toUpperCase(), headers: auth })

    it('answers every documented path with JSON its response schema accepts', async () => {
      const app = admin(engine)
      const doc = await documentOf(app)
      for (const [path, operations] of Object.entries(doc.paths)) {
        for (const [method, described] of Object.entries(operations)) {
          const op = operationOf(path, method)
          const res = await call(app, path, method, urlOf(path))
          expect(`${path} ${res.status}`).toBe(`${path} 200`)
          expect(Object.keys(described.responses)).toContain(String(res.status))
          const body = await res.json()
          const schema = op.responses[200]?.schema as v.GenericSchema
          const parsed = v.safeParse(schema, body)
          expect(parsed.issues?.map((i) => `${path}: ${v.getDotPath(i)} ${i.message}`) ?? []).toEqual([])
          // A view that answers no row would check nothing: the planted ledger has rows in each.
          if (Array.isArray(body)) expect(body.length).toBeGreaterThan(0)
        }
      }
    })

    it('answers the documented refusals with their schemas: an unknown id, a replay that cannot be done', async () => {
      const app = admin(engine)
      for (const [url, path, method, status] of [
        ['/admin/api/trace/unknown', '/admin/api/trace/{id}', 'get', 404],
        ['/admin/api/replay/transfer/gone', '/admin/api/replay/{kind}/{id}', 'post', 409],
      ] as const) {
        const res = await call(app, path, method, url)
        expect(res.status).toBe(status)
        const schema = operationOf(path, method).responses[status]?.schema as v.GenericSchema
        expect(v.is(schema, await res.json())).toBe(true)
      }
    })

    it('takes each documented parameter and refuses an invalid one, naming it', async () => {
      const app = admin(engine)
      const doc = await documentOf(app)
      for (const [path, operations] of Object.entries(doc.paths)) {
        for (const [method, described] of Object.entries(operations)) {
          const op = operationOf(path, method)
          for (const p of described.parameters) {
            const example = EXAMPLES[p.name]
            expect(`${path} ${p.name} ${example ? 'has' : 'has no'} example`).toBe(
              `${path} ${p.name} has example`,
            )
            const withValue = (value: string) =>
              p.in === 'path'
                ? urlOf(path, { [p.name]: value })
                : `${urlOf(path)}?${new URLSearchParams({ [p.name]: value })}`
            const good = await call(app, path, method, withValue((example as { good: string }).good))
            expect(`${path}?${p.name} ${good.status}`).toBe(`${path}?${p.name} 200`)
            expect(v.is(op.responses[200]?.schema as v.GenericSchema, await good.json())).toBe(true)
            if (example?.bad === undefined) continue
            const bad = await call(app, path, method, withValue(example.bad))
            const refusal = p.in === 'query' ? 400 : 404
            expect(`${path}?${p.name}=${example.bad} ${bad.status}`).toBe(
              `${path}?${p.name}=${example.bad} ${refusal}`,
            )
            expect(Object.keys(described.responses)).toContain(String(refusal))
            const { error } = v.parse(op.responses[refusal]?.schema as v.GenericSchema, await bad.json()) as {
              error: string
            }
            expect(error).toContain(p.name)
          }
        }
      }
    })

    it('applies the view parameters: limit caps the rows, since and status filter them', async () => {
      const app = admin(engine)
      const rows = async (query: string) =>
        (await (await app.request(`/admin/api/events?${query}`, { headers: auth })).json()) as unknown[]
      const all = await rows('limit=1000')
      expect(all.length).toBeGreaterThan(2)
      expect(await rows('limit=2')).toHaveLength(2)
      expect(await rows('since=2030-01-01')).toEqual([])
      expect((await rows('status=credited')).length).toBeLessThan(all.length)
    })
  })
}

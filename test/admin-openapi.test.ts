import { describe, expect, it } from 'bun:test'
import type * as v from 'valibot'
import { ADMIN_OPERATIONS, adminOpenApi, jsonSchemaOf } from '../src/adapters/http/admin-openapi.ts'
import { QUERY_VIEWS } from '../src/ports/ledger-views.ts'

// The admin API's OpenAPI document: its shape, and that it holds what the valibot schemas generate.

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

const documentOf = async () => JSON.parse(JSON.stringify(adminOpenApi('/admin'))) as Doc

describe('the admin OpenAPI document', () => {
  it('is OpenAPI 3.1 in shape: every route, its parameters, its responses and both ways in', async () => {
    const doc = await documentOf()
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
    const doc = await documentOf()
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
})

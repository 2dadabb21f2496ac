import { toJsonSchema } from '@valibot/to-json-schema'
import type * as v from 'valibot'
import { QUERY_VIEWS } from '../../ports/ledger-views.ts'
import {
  ErrorBody,
  ReconcileQuery,
  ReplayParams,
  ReplayResult,
  TraceBody,
  TraceParams,
  ViewQuery,
  viewBody,
} from './admin-api-schema.ts'
import { ReconciliationBody, StatusBody } from './ledger-report-schema.ts'

// /admin/api/openapi.json: the OpenAPI 3.1 document of the admin JSON API, generated from the
// schemas the routes validate with. Paths are the routes' own (`/admin/api/…`).

type Schema = v.GenericSchema
type ObjectSchema = v.ObjectSchema<v.ObjectEntries, undefined>

/** One route of the admin JSON API as the document describes it. */
export interface AdminOperation {
  method: 'get' | 'post'
  /** Under the admin base path, OpenAPI style (`/api/trace/{id}`). */
  path: string
  summary: string
  params?: ObjectSchema
  query?: ObjectSchema
  responses: Record<number, { description: string; schema: Schema }>
}

const refused = { 400: { description: 'a parameter is invalid; `error` names it', schema: ErrorBody } }

/** Every route of the admin JSON API, one per view. */
export const ADMIN_OPERATIONS: AdminOperation[] = [
  {
    method: 'get',
    path: '/api/status',
    summary:
      "The status page's numbers: the flow per stage, recent runs, a 7-day reconciliation, what is dead",
    responses: { 200: { description: 'the snapshot', schema: StatusBody } },
  },
  {
    method: 'get',
    path: '/api/reconcile',
    summary: 'Reconciles credited invoices against transfers, per UTC day; `ok: false` lists the mismatches',
    query: ReconcileQuery,
    responses: { 200: { description: 'the reconciliation', schema: ReconciliationBody }, ...refused },
  },
  {
    method: 'get',
    path: '/api/trace/{id}',
    summary: "One item's lineage from any of its ids",
    params: TraceParams,
    responses: {
      200: { description: 'the steps the ledger knows', schema: TraceBody },
      404: { description: 'the ledger knows nothing of the id (`found: null`)', schema: TraceBody },
    },
  },
  ...QUERY_VIEWS.map(
    (view): AdminOperation => ({
      method: 'get',
      path: `/api/${view}`,
      summary: `The ${view} view, newest first`,
      query: ViewQuery,
      responses: { 200: { description: `${view} rows`, schema: viewBody(view) }, ...refused },
    }),
  ),
  {
    method: 'post',
    path: '/api/replay/{kind}/{id}',
    summary: 'Puts a dead item back on its way (a form post is answered with a 303 to the page)',
    params: ReplayParams,
    responses: {
      200: { description: 'replayed', schema: ReplayResult },
      403: { description: 'a cross-site request', schema: ErrorBody },
      404: { description: 'replay is not available here, or an unknown kind', schema: ErrorBody },
      409: { description: 'cannot be replayed; `message` says why', schema: ReplayResult },
    },
  },
]

/** The JSON Schema (2020-12, OpenAPI 3.1's dialect) of a valibot schema, as the document holds it. */
export function jsonSchemaOf(schema: Schema, mode: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _, ...json } = toJsonSchema(schema, {
    target: 'draft-2020-12',
    typeMode: mode === 'input' ? 'input' : 'ignore',
    // A `check` is code (a real day, a readable age): the pattern beside it is what the document says.
    overrideAction: ({ valibotAction, jsonSchema }) =>
      valibotAction.type === 'check' ? jsonSchema : undefined,
  }) as Record<string, unknown>
  return json
}

const parameters = (where: 'path' | 'query', schema: ObjectSchema | undefined) =>
  Object.entries(schema?.entries ?? {}).map(([name, entry]) => {
    const json = jsonSchemaOf(entry as Schema, 'input')
    const { description, ...rest } = json
    return {
      name,
      in: where,
      required: where === 'path' || entry.type !== 'optional',
      ...(description ? { description } : {}),
      schema: rest,
    }
  })

/** The OpenAPI 3.1 document, with the routes' paths under `basePath`. */
export function adminOpenApi(basePath = '/admin') {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of ADMIN_OPERATIONS) {
    const responses: Record<string, unknown> = {
      401: {
        description: 'no token, a wrong one or an expired session',
        content: { 'application/json': { schema: jsonSchemaOf(ErrorBody) } },
      },
    }
    for (const [status, r] of Object.entries(op.responses))
      responses[status] = {
        description: r.description,
        content: { 'application/json': { schema: jsonSchemaOf(r.schema) } },
      }
    paths[`${basePath}${op.path}`] = {
      [op.method]: {
        summary: op.summary,
        parameters: [...parameters('path', op.params), ...parameters('query', op.query)],
        responses,
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'paybridge admin API', version: '1' },
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'paybridge_admin',
          description: 'the session cookie /admin?token= sets (12 hours)',
        },
      },
    },
    paths,
  }
}

import fc from 'fast-check'

// Generators of the input a public endpoint or a shared queue can be handed: random bytes, truncated
// JSON, huge strings, deep nesting, wrong types in the right places, and unicode of every plane.

/** A Stark Bank `invoice`/`credited` body as the emulator sends it. */
export function creditedBody(id = '4000000000000001', invoiceId = '4000000000000002'): string {
  return JSON.stringify({
    event: {
      id,
      subscription: 'invoice',
      created: '2026-01-01T00:00:00.000000+00:00',
      workspaceId: '5078376503050240',
      log: {
        id: `${id}9`,
        type: 'credited',
        created: '2026-01-01T00:00:00.000000+00:00',
        errors: [],
        invoice: { id: invoiceId, amount: 10_000, fee: 50, status: 'paid', tags: [] },
      },
    },
  })
}

/** A Stripe event as Stripe sends it. */
export function stripeEventBody(id = 'evt_fuzz0001'): string {
  return JSON.stringify({
    id,
    object: 'event',
    type: 'invoice.paid',
    api_version: '2024-06-20',
    created: 1_764_000_000,
    data: { object: { id: 'in_1', object: 'invoice' } },
  })
}

/** `depth` nested arrays (or objects) around `inner`. */
export function nested(depth: number, kind: 'array' | 'object' = 'array', inner = '0'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`
}

const anyUnicode = fc.string({ unit: 'binary', maxLength: 200 })
const huge = fc.integer({ min: 1, max: 300_000 }).map((n) => 'x'.repeat(n))

/** Any JSON value, with unicode keys and strings. */
const jsonValue = fc.jsonValue({ maxDepth: 4 })

/** Values of the wrong type for a field: everything JSON can say, plus big and odd numbers. */
const wrongType = fc.oneof(
  jsonValue,
  fc.constantFrom(null, true, false, -1, 1e308, -0, 1.5, Number.MAX_SAFE_INTEGER + 2, '', '0'),
  anyUnicode,
  huge,
)

/** Random bytes as the text a decoder makes of them (lone surrogates and U+FFFD included). */
export const randomBytesText = fc
  .uint8Array({ maxLength: 2_000 })
  .map((bytes) => new TextDecoder().decode(bytes))

/** A prefix of a valid document: what a cut connection or a full disk leaves. */
export function truncated(valid: string) {
  return fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.slice(0, n))
}

/** Deep nesting (arrays or objects), up to `maxDepth` levels. */
export function deepNesting(maxDepth = 100_000) {
  return fc
    .record({
      depth: fc.constantFrom(...[100, 1_000, 10_000, 100_000].filter((d) => d <= maxDepth)),
      kind: fc.constantFrom<'array' | 'object'>('array', 'object'),
    })
    .map(({ depth, kind }) => nested(depth, kind))
}

const DEEP = '\u0000deep-nesting-here\u0000'

/** A valid document with one field replaced by a wrong type, or a new hostile field added. */
export function mutated(valid: string, maxDepth = 100_000) {
  const paths = collectPaths(JSON.parse(valid))
  return fc
    .record({
      path: fc.constantFrom(...paths),
      value: fc.oneof(
        wrongType.map((v) => ({ v })),
        deepNesting(maxDepth).map((text) => ({ text })),
      ),
      remove: fc.boolean(),
    })
    .map(({ path, value, remove }) => {
      const copy = JSON.parse(valid) as Record<string, unknown>
      // Nesting past the engine's stack is spliced in as text: JSON.stringify could not write it.
      setAt(copy, path, remove ? undefined : 'v' in value ? value.v : DEEP)
      const text = JSON.stringify(copy)
      return 'text' in value ? text.replace(JSON.stringify(DEEP), value.text) : text
    })
}

/**
 * Every kind of hostile body at once, around one valid document; `maxDepth` bounds the nesting put
 * inside the document (nesting at the top always goes to 100k).
 */
export function hostileBody(valid: string, options: { maxDepth?: number } = {}) {
  return fc.oneof(
    { arbitrary: randomBytesText, weight: 3 },
    { arbitrary: truncated(valid), weight: 3 },
    { arbitrary: mutated(valid, options.maxDepth), weight: 4 },
    { arbitrary: deepNesting(), weight: 1 },
    { arbitrary: huge, weight: 1 },
    { arbitrary: jsonValue.map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: anyUnicode, weight: 2 },
  )
}

function collectPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix]
  const entries = Object.entries(value as Record<string, unknown>)
  return [prefix, ...entries.flatMap(([k, v]) => collectPaths(v, [...prefix, k]))]
}

function setAt(root: Record<string, unknown>, path: string[], value: unknown): void {
  if (path.length === 0) {
    root.__replaced = value
    return
  }
  let node: Record<string, unknown> = root
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>
  const last = path[path.length - 1] as string
  if (value === undefined) delete node[last]
  else node[last] = value
}

/**
 * Runs a property and, on failure, throws with the counterexample cut short: hostile inputs run to
 * hundreds of kilobytes, and a report that size buries the reason.
 */
export async function holds<Ts extends [unknown, ...unknown[]]>(
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  numRuns: number,
): Promise<void> {
  const details = await fc.check(property, { numRuns })
  if (!details.failed) return
  const example = JSON.stringify(details.counterexample)
  const cut = example.length > 400 ? `${example.slice(0, 400)}… (${example.length} chars)` : example
  const cause =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
  throw new Error(
    `property failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath}):\n` +
      `${cause.slice(0, 600)}\ncounterexample: ${cut}`,
  )
}

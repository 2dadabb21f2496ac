import { Hono } from 'hono'
import type { Store } from '../../ports/store.ts'

/**
 * One readiness check: resolves to `true` when ready, or to a short reason when not. A check that
 * throws is not ready, with the error's message as the reason.
 */
export type ReadinessCheck = () => true | string | Promise<true | string>

export interface CheckResult {
  ok: boolean
  reason?: string
  ms: number
}

/**
 * Something an operator must look at that does not make the process unready (serving it would not
 * get better by taking it out of rotation): a short text, or null when there is nothing to say.
 */
export type ReadinessAlert = () => string | null | Promise<string | null>

/**
 * `GET /healthz`: the process answers (liveness). `GET /readyz`: every named check in parallel, each
 * cut off after `timeoutMs`; 200 when all pass, else 503 with each failing check's reason. Reasons
 * are the checks' own words: they must not carry secrets. `alerts` are shown under `alerts` and never
 * change the status (an alert that throws or times out shows that as its text).
 */
export function healthRoutes(deps: {
  checks: Record<string, ReadinessCheck>
  alerts?: Record<string, ReadinessAlert>
  timeoutMs?: number
  clock?: () => number
}) {
  const timeoutMs = deps.timeoutMs ?? 2_000
  const clock = deps.clock ?? Date.now
  const app = new Hono()

  async function run(check: ReadinessCheck): Promise<CheckResult> {
    const started = clock()
    let timer: Timer | undefined
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs)
    })
    try {
      const outcome = await Promise.race([Promise.resolve().then(check), timeout])
      const ms = clock() - started
      return outcome === true ? { ok: true, ms } : { ok: false, reason: outcome, ms }
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err), ms: clock() - started }
    } finally {
      clearTimeout(timer)
    }
  }

  async function raised(alerts: Record<string, ReadinessAlert>): Promise<Record<string, string>> {
    const names = Object.keys(alerts)
    const texts = await Promise.all(
      names.map(async (name) => {
        const r = await run(async () => (await (alerts[name] as ReadinessAlert)()) ?? true)
        return r.ok ? null : (r.reason ?? null)
      }),
    )
    return Object.fromEntries(names.flatMap((n, i) => (texts[i] ? [[n, texts[i]]] : [])))
  }

  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    const names = Object.keys(deps.checks)
    const results = await Promise.all(names.map((name) => run(deps.checks[name] as ReadinessCheck)))
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i] as CheckResult]))
    const ok = results.every((r) => r.ok)
    const failing = names.filter((_, i) => !results[i]?.ok)
    const alerts = await raised(deps.alerts ?? {})
    return c.json(
      {
        ok,
        ...(ok ? {} : { reason: failing.map((n) => `${n}: ${checks[n]?.reason}`).join('; ') }),
        checks,
        ...(Object.keys(alerts).length > 0 ? { alerts } : {}),
      },
      ok ? 200 : 503,
    )
  })
  return app
}

/**
 * Ready once Stark Bank's public key is loaded. The verifier loads the key lazily, at the first
 * webhook; this check asks for it when it is missing (a dummy verification) so that readiness does
 * not wait for a webhook that will only come once paybridge is ready. The verifier's backoff after a
 * failed fetch holds here too: probes do not add requests to Stark Bank.
 */
export function starkKeyCheck(verifier: {
  loaded(): boolean
  verify(body: Uint8Array, signature: string): Promise<boolean>
}): ReadinessCheck {
  return async () => {
    if (verifier.loaded()) return true
    await verifier.verify(new Uint8Array(), '')
    return verifier.loaded() ? (true as const) : 'Stark Bank public key not loaded'
  }
}

/** Ready when the queue answers `ping()`. */
export function queueCheck(queue: { ping(): Promise<void> }): ReadinessCheck {
  return async () => {
    await queue.ping()
    return true as const
  }
}

/**
 * Open transfers past the retry limit with their outcome unknown: they may exist at Stark Bank, so an
 * operator must find out there (by externalId) rather than pay them by hand. The relay keeps retrying
 * them, so this never makes the process unready.
 */
export function unresolvedTransfersAlert(store: Pick<Store, 'unresolvedTransfers'>): ReadinessAlert {
  return async () => {
    const n = await store.unresolvedTransfers()
    return n === 0
      ? null
      : `${n} transfer(s) unresolved: outcome at Stark Bank unknown after the retry limit; still retrying (see \`ledger transfers\`)`
  }
}

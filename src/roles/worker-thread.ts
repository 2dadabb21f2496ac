import { type PortCall, replayPortCalls } from '../adapters/thread/forwarded-ports.ts'
import type { GapReport } from '../app/fill-gaps.ts'
import type { Config } from '../config.ts'
import type { Log } from '../ports/log.ts'
import type { Metrics } from '../ports/metrics.ts'
import type { BackgroundRoles } from './background.ts'

/** What the main thread asks of the worker thread, and what it answers. */
export type ThreadCall = 'fillGaps' | 'consumer' | 'transferRelay'
export type ToThread =
  | {
      type: 'start'
      config: Config
      roles: ('worker' | 'relay')[]
      gapFillAtStart: boolean
      gapRetryMs?: number[]
    }
  | { type: 'call'; id: number; call: ThreadCall }
  | { type: 'stop' }
export type FromThread =
  | { type: 'ports'; calls: PortCall[] }
  | { type: 'started' }
  | { type: 'start-failed'; error: string }
  | { type: 'reply'; id: number; value?: unknown; error?: string }
  | { type: 'stopped' }

/**
 * The worker and relay on a Bun worker thread of their own, so the webhook's event loop never waits
 * for them and a second core does their work. The thread is paybridge itself (`startPaybridge` with
 * the roles worker and relay) on its own connection to the same ledger, talking to the Stark Bank this
 * process resolved (its emulator too). Its log lines and metrics are made on this thread's log and
 * registry; /readyz and the gap fill ask it over messages (until it has started, /readyz says so).
 * If the thread dies, `failed` says why and
 * its checks report it; what it had received and not acked is handed out again by the queue.
 */
export function startWorkerThread(deps: {
  config: Config
  roles: ('worker' | 'relay')[]
  gapFillAtStart: boolean
  gapRetryMs?: number[] | undefined
  log: Log
  metrics: Metrics
  /** The thread's module (tests start one that fails); paybridge's own by default. */
  entry?: URL
}): BackgroundRoles {
  const { log, metrics } = deps
  // The environment is handed over as it is now: Bun 1.4.5's default missed variables set at run time
  // (the AWS SDK's credentials among them).
  const thread = new Worker((deps.entry ?? new URL('./worker-thread-entry.ts', import.meta.url)).href, {
    env: Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    ),
  })
  const post = (message: ToThread) => thread.postMessage(message)
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 0
  let stopping = false
  let dead: string | undefined
  let died: (why: string) => void = () => {}
  const failed = new Promise<string>((resolve) => {
    died = resolve
  })
  let onStarted: { resolve: () => void; reject: (e: Error) => void } | undefined
  let onStopped: (() => void) | undefined

  const end = (why: string) => {
    if (dead) return
    dead = why
    for (const call of pending.values()) call.reject(new Error(why))
    pending.clear()
    onStarted?.reject(new Error(why))
    onStopped?.()
    if (!stopping) {
      log.error('worker thread died: the worker and relay stopped', { error: why })
      died(why)
    }
  }
  thread.addEventListener('message', (event: MessageEvent<FromThread>) => {
    const message = event.data
    if (message.type === 'ports') replayPortCalls(message.calls, { log, metrics })
    else if (message.type === 'started') onStarted?.resolve()
    else if (message.type === 'start-failed') {
      end(`worker thread did not start: ${message.error}`)
      thread.terminate()
    } else if (message.type === 'stopped') onStopped?.()
    else {
      const call = pending.get(message.id)
      pending.delete(message.id)
      if (message.error === undefined) call?.resolve(message.value)
      else call?.reject(new Error(message.error))
    }
  })
  thread.addEventListener('error', (event) => {
    const error = (event as ErrorEvent).error
    end(`worker thread failed: ${error instanceof Error ? error.message : (event as ErrorEvent).message}`)
  })
  thread.addEventListener('close', (event) =>
    end(`worker thread exited (code ${(event as CloseEvent).code})`),
  )

  const call = <T>(name: ThreadCall): Promise<T> => {
    if (dead) return Promise.reject(new Error(dead))
    const id = nextId++
    post({ type: 'call', id, call: name })
    return new Promise<T>((resolve, reject) =>
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject }),
    )
  }
  const started = new Promise<void>((resolve, reject) => {
    onStarted = { resolve, reject }
  })
  const { config, roles, gapFillAtStart, gapRetryMs } = deps
  post({ type: 'start', config, roles, gapFillAtStart, ...(gapRetryMs ? { gapRetryMs } : {}) })
  const ready = started.then(() =>
    log.info('worker and relay running on a worker thread', { roles: roles.join(',') }),
  )

  // A dead thread's checks say why at once instead of waiting out the probe's timeout.
  const check = (name: ThreadCall) => () => (dead ? dead : call<true | string>(name))
  return {
    checks: { consumer: check('consumer'), transferRelay: check('transferRelay') },
    fillGaps: () => call<GapReport | undefined>('fillGaps'),
    ready,
    failed,
    start() {},
    async stop() {
      if (dead) return
      stopping = true
      // The thread drains its roles and closes its ledger connection before it is ended.
      await new Promise<void>((resolve) => {
        onStopped = resolve
        post({ type: 'stop' })
      })
      thread.terminate()
    },
  }
}

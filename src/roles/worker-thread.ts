import { StartupFailure } from '../adapters/startup-failure.ts'
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
  | { type: 'start-failed'; error: string; cause: StartCause }
  | { type: 'reply'; id: number; value?: unknown; error?: string }
  | { type: 'stopped'; error?: string }

/** What main.ts names a start-up failure by (see startupFailureOf), carried across from the thread. */
export interface StartCause {
  code?: string
  syscall?: string
  path?: string
  /** Set when the thread's failure was a StartupFailure: what it is made of. */
  startup?: { variable: string; problem: string; fix: string }
}

/** The thread's start failure as main.ts would have met it on its own thread. */
function startError(why: string, cause: StartCause): Error {
  const { startup, ...codes } = cause
  if (startup) return new StartupFailure(startup.variable, startup.problem, startup.fix)
  return Object.assign(new Error(why), codes)
}

/** A readiness question the thread has not answered in this long is answered "not ready" for it. */
const CHECK_TIMEOUT_MS = 5_000
/**
 * A drain's longest normal course beyond the relay lease (no bank or Stripe call outlives the lease):
 * the event consumers' 10 s for messages in hand, then the Stripe consumer's 10 s, and a margin.
 */
const DRAIN_MARGIN_MS = 25_000

/**
 * The worker and relay on a Bun worker thread of their own, so the webhook's event loop never waits
 * for them and a second core does their work. The thread is paybridge itself (`startPaybridge` with
 * the roles worker and relay) on its own connection to the same ledger, talking to the Stark Bank this
 * process resolved (its emulator too). Its log lines and metrics are made on this thread's log and
 * registry; /readyz and the gap fill ask it over messages (until it has started, /readyz says so).
 * The thread is spawned by `start()`, so a start that fails before it leaves none behind. If the
 * thread dies, `failed` says why and its checks report it; what it had received and not acked is
 * handed out again by the queue, and a transfer it had claimed is taken over when its lease ends.
 */
export function workerThreadRoles(deps: {
  config: Config
  roles: ('worker' | 'relay')[]
  gapFillAtStart: boolean
  gapRetryMs?: number[] | undefined
  log: Log
  metrics: Metrics
  /** The thread's module (tests start one that fails); paybridge's own by default. */
  entry?: URL
  /** How long a stop waits for the thread's drain before ending it (default: see DRAIN_MARGIN_MS). */
  stopDeadlineMs?: number
}): BackgroundRoles {
  const { log, metrics, config, roles } = deps
  const stopDeadlineMs = deps.stopDeadlineMs ?? config.relayLeaseMs + DRAIN_MARGIN_MS
  let thread: Worker | undefined
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 0
  let started = false
  let stopping = false
  let dead: string | undefined
  let died: (why: string) => void = () => {}
  const failed = new Promise<string>((resolve) => {
    died = resolve
  })
  let onStarted: { resolve: () => void; reject: (e: Error) => void } | undefined
  const ready = new Promise<void>((resolve, reject) => {
    onStarted = { resolve, reject }
  })
  // Whoever starts the roles awaits `ready`; a start abandoned before it must not be an unhandled rejection.
  ready.catch(() => {})
  let onStopped: (() => void) | undefined
  let drainDone: Promise<void> | undefined

  const end = (why: string) => {
    if (dead) return
    dead = why
    for (const call of pending.values()) call.reject(new Error(why))
    pending.clear()
    onStarted?.reject(new Error(why))
    onStopped?.()
    // A thread that never started is the start's failure (thrown by `ready`), not a death.
    if (!stopping && started) {
      log.error('worker thread died: the worker and relay stopped', { error: why })
      died(why)
    }
  }
  const listen = (worker: Worker) => {
    worker.addEventListener('message', (event: MessageEvent<FromThread>) => {
      const message = event.data
      if (message.type === 'ports') replayPortCalls(message.calls, { log, metrics })
      else if (message.type === 'started') {
        started = true
        log.info('worker and relay running on a worker thread', { roles: roles.join(',') })
        onStarted?.resolve()
      } else if (message.type === 'start-failed') {
        const why = `worker thread did not start: ${message.error}`
        onStarted?.reject(startError(why, message.cause))
        end(why)
        worker.terminate()
      } else if (message.type === 'stopped') {
        if (message.error) log.error('worker thread stop failed', { error: message.error })
        onStopped?.()
      } else {
        const call = pending.get(message.id)
        pending.delete(message.id)
        if (message.error === undefined) call?.resolve(message.value)
        else call?.reject(new Error(message.error))
      }
    })
    worker.addEventListener('error', (event) => {
      const error = (event as ErrorEvent).error
      const why = `worker thread failed: ${error instanceof Error ? error.message : (event as ErrorEvent).message}`
      if (stopping) log.error('worker thread failed while stopping', { error: why })
      end(why)
    })
    worker.addEventListener('close', (event) =>
      end(`worker thread exited (code ${(event as CloseEvent).code})`),
    )
  }

  const call = <T>(name: ThreadCall, timeoutMs?: number): Promise<T> => {
    if (dead) return Promise.reject(new Error(dead))
    if (!thread || !started) return Promise.reject(new Error('worker thread not started yet'))
    const id = nextId++
    thread.postMessage({ type: 'call', id, call: name } satisfies ToThread)
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              pending.delete(id)
              reject(new Error(`worker thread did not answer within ${timeoutMs} ms`))
            }, timeoutMs)
      const settle =
        <A>(f: (a: A) => void) =>
        (a: A) => {
          clearTimeout(timer)
          f(a)
        }
      pending.set(id, { resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) })
    })
  }

  // A dead thread's checks say why at once instead of waiting out the probe's timeout.
  const check = (name: ThreadCall) => () => (dead ? dead : call<true | string>(name, CHECK_TIMEOUT_MS))
  return {
    checks: { consumer: check('consumer'), transferRelay: check('transferRelay') },
    fillGaps: () => call<GapReport | undefined>('fillGaps'),
    ready,
    failed,
    start() {
      if (thread) return
      // The environment is handed over as it is now: Bun 1.4.5's default missed variables set at run
      // time (the AWS SDK's credentials among them).
      thread = new Worker((deps.entry ?? new URL('./worker-thread-entry.ts', import.meta.url)).href, {
        env: Object.fromEntries(
          Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
        ),
      })
      listen(thread)
      const { gapFillAtStart, gapRetryMs } = deps
      thread.postMessage({
        type: 'start',
        config,
        roles,
        gapFillAtStart,
        ...(gapRetryMs ? { gapRetryMs } : {}),
      } satisfies ToThread)
    },
    stop() {
      const worker = thread
      if (!worker || dead) return Promise.resolve()
      // One drain however many ask for it.
      drainDone ??= drain(worker)
      return drainDone
    },
  }

  async function drain(worker: Worker): Promise<void> {
    stopping = true
    // The thread drains its roles and closes its ledger connection before it is ended; one that
    // does not within the deadline is ended anyway (its messages come back, its claims expire).
    let timer: Timer | undefined
    const drained = await Promise.race([
      new Promise<true>((resolve) => {
        onStopped = () => resolve(true)
        worker.postMessage({ type: 'stop' } satisfies ToThread)
      }),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), stopDeadlineMs)
      }),
    ])
    clearTimeout(timer)
    if (!drained) log.error('worker thread did not stop in time; ended', { deadlineMs: stopDeadlineMs })
    worker.terminate()
    end('worker thread stopped')
  }
}

import { StartupFailure } from '../adapters/startup-failure.ts'
import { forwardingPorts } from '../adapters/thread/forwarded-ports.ts'
import type { Paybridge } from '../paybridge.ts'
import { startPaybridge } from '../paybridge.ts'
import type { FromThread, StartCause, ThreadCall, ToThread } from './worker-thread.ts'

// The worker thread's side of `workerThreadRoles`: paybridge with the worker and relay roles, its log
// and metrics forwarded to the main thread, answering the main thread's calls.

declare const self: Worker
const post = (message: FromThread) => self.postMessage(message)
let ports: ReturnType<typeof forwardingPorts> | undefined
let paybridge: Paybridge | undefined

/** What main.ts needs to name a start failure: the error's code, syscall and path, or its StartupFailure. */
function causeOf(err: unknown): StartCause {
  if (!(err instanceof Error)) return {}
  if (err instanceof StartupFailure)
    return { startup: { variable: err.variable, problem: err.problem, fix: err.fix } }
  const { code, syscall, path } = err as Error & StartCause
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof syscall === 'string' ? { syscall } : {}),
    ...(typeof path === 'string' ? { path } : {}),
  }
}

async function answer(name: ThreadCall, of: Paybridge): Promise<unknown> {
  if (name === 'fillGaps') return of.fillGaps()
  return of.checks[name]()
}

self.addEventListener('message', async (event: MessageEvent<ToThread>) => {
  const message = event.data
  if (message.type === 'start') {
    const forwarded = forwardingPorts((calls) => post({ type: 'ports', calls }), message.config.logLevel)
    ports = forwarded
    try {
      paybridge = await startPaybridge(message.config, {
        roles: message.roles,
        log: forwarded.log.child({ thread: 'worker' }),
        metrics: forwarded.metrics,
        scheduler: false,
        gapFill: message.gapFillAtStart,
        ...(message.gapRetryMs ? { gapRetryMs: message.gapRetryMs } : {}),
        workerThread: 'off',
      })
      forwarded.flush()
      post({ type: 'started' })
    } catch (err) {
      forwarded.flush()
      post({
        type: 'start-failed',
        error: err instanceof Error ? err.message : String(err),
        cause: causeOf(err),
      })
    }
  } else if (message.type === 'call') {
    const of = paybridge
    if (!of) return post({ type: 'reply', id: message.id, error: 'worker thread not started' })
    try {
      post({ type: 'reply', id: message.id, value: await answer(message.call, of) })
    } catch (err) {
      post({ type: 'reply', id: message.id, error: err instanceof Error ? err.message : String(err) })
    }
  } else {
    // A failed drain is reported, not swallowed: the main thread logs it.
    let error: string | undefined
    try {
      await paybridge?.stop()
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
    }
    ports?.flush()
    post({ type: 'stopped', ...(error ? { error } : {}) })
  }
})

import type { Fields, Log } from '../../ports/log.ts'
import type { Metrics } from '../../ports/metrics.ts'

type Level = 'debug' | 'info' | 'warn' | 'error'

/** One call of a Log or Metrics method made on a worker thread, to be made again on the main thread. */
export type PortCall = ['log', Level, string, Fields | undefined] | ['metrics', keyof Metrics, unknown[]]

// Every method of the Metrics port, checked by the compiler: a method added to the port and not here
// fails to compile rather than being dropped on the thread.
const METRICS_METHODS = {
  webhook: true,
  verifyDuration: true,
  queueReceived: true,
  queueAcked: true,
  queueDeadLettered: true,
  consumerPaused: true,
  consumerInfrastructureFailure: true,
  bankCall: true,
  downstreamCall: true,
  schedulerRun: true,
  invoicesIssued: true,
  relayCircuit: true,
  relayStaleWrite: true,
  reconciliation: true,
} satisfies Record<keyof Metrics, true>
const LEVELS: Level[] = ['debug', 'info', 'warn', 'error']

/**
 * The Log and Metrics ports of a worker thread: each call is kept and posted to the main thread on
 * the next turn of the loop (many calls, one message), where `replayPortCalls` makes it on the
 * process's one log and one metrics registry. So /metrics and the log lines are the process's,
 * whichever thread did the work. Every port method returns nothing, so nothing waits for the post.
 * Made once per thread: it listens for the thread's uncaught error and exit.
 */
export function forwardingPorts(
  post: (calls: PortCall[]) => void,
  /** The lowest level worth posting: lines below it would only be dropped on the main thread. */
  level: Level,
): { log: Log; metrics: Metrics; flush(): void } {
  const lowest = LEVELS.indexOf(level)
  let calls: PortCall[] = []
  let timer: Timer | undefined
  const flush = () => {
    clearTimeout(timer)
    timer = undefined
    if (calls.length === 0) return
    const batch = calls
    calls = []
    post(batch)
  }
  const keep = (call: PortCall) => {
    calls.push(call)
    timer ??= setTimeout(flush, 0)
  }
  const logWith = (bound: Fields | undefined): Log => {
    const at = (level: Level) =>
      LEVELS.indexOf(level) < lowest
        ? () => {}
        : (message: string, fields?: Fields) =>
            keep(['log', level, message, bound || fields ? { ...bound, ...fields } : undefined])
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (fields) => logWith({ ...bound, ...fields }),
    }
  }
  // What was said just before the thread dies is what tells why: flushed on an uncaught error (the
  // thread still ends) and at exit, not left to the next turn that never comes.
  globalThis.addEventListener?.('error', flush)
  process.on('exit', flush)
  const metrics = Object.fromEntries(
    Object.keys(METRICS_METHODS).map((method) => [
      method,
      (...args: unknown[]) => keep(['metrics', method as keyof Metrics, args]),
    ]),
  ) as unknown as Metrics
  return { log: logWith(undefined), metrics, flush }
}

/** Makes the calls a worker thread forwarded on this thread's log and metrics. */
export function replayPortCalls(calls: PortCall[], to: { log: Log; metrics: Metrics }): void {
  for (const call of calls) {
    if (call[0] === 'log') {
      const [, level, message, fields] = call
      if (LEVELS.includes(level)) to.log[level](message, fields)
    } else {
      const [, method, args] = call
      if (Object.hasOwn(METRICS_METHODS, method)) (to.metrics[method] as (...a: unknown[]) => void)(...args)
    }
  }
}

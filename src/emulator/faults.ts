/**
 * A failure to inject on one route. Without `afterProcessing` nothing happens at the bank; with it
 * the work is done and then the response is lost: a failed status, or a hang of `delayMs`.
 * `status` defaults to 500 unless only `delayMs` is given, in which case the request completes
 * normally once the delay is over (a slow bank, not a failing one).
 */
export interface Fault {
  status?: number
  /** Sent as `Retry-After` (with 429 or 503, typically). */
  retryAfterSeconds?: number
  delayMs?: number
  afterProcessing?: boolean
  /** How many requests this fault applies to; default 1. */
  times?: number
  /**
   * With `afterProcessing` on `POST /v2/transfer`: the transfers it created stay out of list queries
   * for this long (Stark's lists can lag behind a create), so a lookup by tag does not find them yet.
   */
  hideFromListsMs?: number
}

/** Faults per route, consumed in the order they were added. */
export function faultQueue() {
  const queues = new Map<string, { fault: Fault; left: number }[]>()
  return {
    add(route: string, fault: Fault) {
      const queue = queues.get(route) ?? []
      queue.push({ fault, left: fault.times ?? 1 })
      queues.set(route, queue)
    },
    take(route: string): Fault | undefined {
      const head = queues.get(route)?.[0]
      if (!head) return undefined
      head.left -= 1
      if (head.left <= 0) queues.get(route)?.shift()
      return head.fault
    },
    clear: () => queues.clear(),
  }
}

export function faultStatus(fault: Fault): number | undefined {
  return fault.status ?? (fault.delayMs ? undefined : 500)
}

export function faultResponse(status: number, fault: Fault): Response {
  const code = status === 429 ? 'tooManyRequests' : status >= 500 ? 'internalServerError' : 'emulatedFault'
  const headers: Record<string, string> = {}
  if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds)
  return Response.json(
    { errors: [{ code, message: `Emulated failure (HTTP ${status})` }] },
    { status, headers },
  )
}

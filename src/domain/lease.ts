// A claim's lease must outlast every call made under it, or another relay may take the rows and send
// them again while the first call is still in flight. The rules that keep it so are written here
// once: the relays follow them, and configuration refuses leases that cannot.

/**
 * Stark Bank calls one transfer may need in a row under one claim: the lookup of an earlier attempt,
 * the send, and the lookup after a duplicate-externalId refusal.
 */
export const STARK_CALLS_PER_TRANSFER = 3

/**
 * Room a transfer claim leaves for its own ledger steps (the claim itself, the outcome writes): the
 * lease counts from the claim's time, so without it the claim's own latency would leave no room for
 * the calls of even one transfer.
 */
export const LEDGER_STEPS_MS = 1_000

/** Time left after a POST to the Stripe service for writing its outcome before the lease runs out. */
export const FORWARD_WRITE_MS = 1_000

/**
 * The shortest relay lease that lets one transfer's calls, each up to `starkTimeoutMs`, all finish
 * after the claim: below it a claim could not send even one transfer whose earlier attempt is unknown.
 */
export function minTransferLeaseMs(starkTimeoutMs: number): number {
  return STARK_CALLS_PER_TRANSFER * starkTimeoutMs + LEDGER_STEPS_MS
}

/** The shortest lease that outlasts one POST downstream (up to `stripeTimeoutMs`) and its write. */
export function minForwardLeaseMs(stripeTimeoutMs: number): number {
  return stripeTimeoutMs + FORWARD_WRITE_MS
}

/**
 * What is left of a claim held until `until`: `allows(now, n)` says whether n more calls of up to
 * `callMs` each can all end before it runs out. Without `callMs` every call is allowed.
 */
export function leaseBudget(until: number, callMs: number | undefined) {
  return {
    allows: (now: number, calls: number): boolean => callMs === undefined || now + calls * callMs <= until,
  }
}
